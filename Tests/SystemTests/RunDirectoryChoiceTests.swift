import Foundation
import Glibc
import XCTest

/// The client commands find the run directory from --run-dir, then
/// BERTH_RUN_DIR, then ./run, and every error names the path tried and how
/// it was chosen.
final class E2ERunDirectoryChoiceTests: BerthTestCase {
    /// berth run in `directory`, with BERTH_RUN_DIR as given (never the
    /// caller's).
    private func berth(in directory: String, runDirectoryVariable: String? = nil, _ arguments: [String]) throws -> Command.Result {
        var environment = TestEnvironment.berth
        environment["BERTH_RUN_DIR"] = runDirectoryVariable
        return try Command.run("/bin/sh", ["-c", #"cd "$1" && shift && exec "$@""#, "sh", directory, BuildProducts.berth] + arguments,
                               environment: environment, timeout: 60)
    }

    func testEveryClientErrorNamesTheRunDirectoryAndHowItWasChosen() throws {
        let elsewhere = sandbox.root + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: false)
        let commands: [[String]] = [["status"], ["reload"], ["restart", "greeter"], ["call", "greeter", "GET", "/hello/x"]]
        for command in commands {
            let byDefault = try berth(in: elsewhere, command)
            XCTAssertEqual(byDefault.status, 2, "\(command): \(byDefault.stderr)")
            XCTAssertTrue(byDefault.stderr.contains("run dir run (\(elsewhere)/run), the default (no --run-dir, no BERTH_RUN_DIR); it does not exist"),
                          "\(command): \(byDefault.stderr)")
            XCTAssertTrue(byDefault.stderr.contains("--run-dir DIR or BERTH_RUN_DIR=DIR"), "\(command): \(byDefault.stderr)")
            // berth status must not advise running berth status.
            XCTAssertFalse(byDefault.stderr.contains("berth status"), "\(command): \(byDefault.stderr)")

            let fromVariable = try berth(in: elsewhere, runDirectoryVariable: elsewhere, command)
            XCTAssertTrue(fromVariable.stderr.contains("No berth serves the run dir \(elsewhere), from BERTH_RUN_DIR"),
                          "\(command): \(fromVariable.stderr)")

            let fromOption = try berth(in: elsewhere, runDirectoryVariable: sandbox.run, ["\(command[0])", "--run-dir", elsewhere] + command.dropFirst())
            XCTAssertTrue(fromOption.stderr.contains("the run dir \(elsewhere), from --run-dir"), "\(command): \(fromOption.stderr)")
        }
    }

    func testBERTHRUNDIRFindsTheHostAndTheOptionWins() throws {
        try startExampleHost()
        let elsewhere = sandbox.root + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: false)

        let call = try berth(in: elsewhere, runDirectoryVariable: sandbox.run, ["call", "greeter", "GET", "/hello/env"])
        XCTAssertEqual(call.status, 0, call.stderr)
        XCTAssertEqual(call.stdout, #"{"id":null,"status":200,"data":{"greeting":"Hello, env!"}}"# + "\n")
        let status = try berth(in: elsewhere, runDirectoryVariable: sandbox.run, ["status"])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("greeter "), status.stdout)
        let reload = try berth(in: elsewhere, runDirectoryVariable: sandbox.run, ["reload"])
        XCTAssertEqual(reload.status, 0, reload.stdout + reload.stderr)

        // A service that does not exist, with berth serving there: the
        // error says so, with the command that lists the services.
        let missing = try berth(in: elsewhere, ["call", "--run-dir", sandbox.run, "nosuch", "GET", "/x"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("No service named nosuch in the run dir \(sandbox.run), from --run-dir; `berth status --run-dir \(sandbox.run)` lists"),
                      missing.stderr)

        // A token that cannot be read: the 401 comes with which file, in
        // which run dir, and why.
        let token = sandbox.run + "/.auth_token"
        XCTAssertEqual(rename(token, token + ".away"), 0)
        let tokenless = try berth(in: elsewhere, runDirectoryVariable: sandbox.run, ["status"])
        XCTAssertEqual(rename(token + ".away", token), 0)
        XCTAssertEqual(tokenless.status, 1, tokenless.stderr)
        XCTAssertTrue(tokenless.stderr.contains("no token sent: cannot read the admin token \(token) ("), tokenless.stderr)
        XCTAssertTrue(tokenless.stderr.contains("in the run dir \(sandbox.run), from BERTH_RUN_DIR"), tokenless.stderr)

        // --run-dir wins over BERTH_RUN_DIR.
        let overridden = try berth(in: elsewhere, runDirectoryVariable: elsewhere, ["call", "--run-dir", sandbox.run, "greeter", "GET", "/hello/option"])
        XCTAssertEqual(overridden.status, 0, overridden.stderr)
    }
}
