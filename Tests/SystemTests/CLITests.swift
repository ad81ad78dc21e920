import Foundation
import Glibc
import XCTest

/// The `berth` command line as a user types it.
final class E2ECLITests: BerthTestCase {
    private func berth(_ arguments: String...) throws -> Command.Result {
        try Command.run(BuildProducts.berth, arguments, environment: TestEnvironment.berth)
    }

    func testCallPrintsTheResponseAndExitCodesFollowTheStatus() throws {
        try startExampleHost()
        let run = sandbox.run

        let ok = try berth("call", "--run-dir", run, "greeter", "GET", "/hello/cli")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, #"{"id":null,"status":200,"data":{"greeting":"Hello, cli!"}}"# + "\n")

        // The token is read from the run directory.
        let echo = try berth("call", "--run-dir", run, "--id", "\"c1\"", "cecho", "POST", "/echo", #"{"a":[1,2]}"#)
        XCTAssertEqual(echo.status, 0, echo.stderr)
        XCTAssertEqual(echo.stdout, #"{"id":"c1","status":200,"data":{"a":[1,2]}}"# + "\n")

        let missing = try berth("call", "--run-dir", run, "greeter", "GET", "/nope")
        XCTAssertEqual(missing.status, 1)
        let notFound = try WireResponse(line: missing.stdout.trimmingCharacters(in: .newlines))
        XCTAssertEqual(notFound.status, 404)
        XCTAssertEqual(notFound.errorCode, "not_found")

        let wrongMethod = try berth("call", "--run-dir", run, "cecho", "DELETE", "/ping")
        XCTAssertEqual(wrongMethod.status, 1)
        XCTAssertTrue(wrongMethod.stdout.contains(#""status":405"#), wrongMethod.stdout)

        let unreachable = try berth("call", "--run-dir", run, "nosuch", "GET", "/x")
        XCTAssertEqual(unreachable.status, 2)
        XCTAssertEqual(unreachable.stdout, "")
        XCTAssertTrue(unreachable.stderr.contains("cannot reach \(sandbox.socket("nosuch"))"), unreachable.stderr)

        let badJSON = try berth("call", "--run-dir", run, "cecho", "POST", "/echo", "{not json")
        XCTAssertEqual(badJSON.status, 64, badJSON.stderr)
        XCTAssertTrue(badJSON.stderr.contains("JSON-DATA is not valid JSON"), badJSON.stderr)
    }

    func testCallWithoutAServerExitsTwo() throws {
        let result = try berth("call", "--run-dir", sandbox.run, "greeter", "GET", "/hello/x")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("cannot reach"), result.stderr)
    }

    func testStatusTableAndJSON() throws {
        let host = try startExampleHost()
        let greeterPID = try workerPID("greeter")
        let cechoPID = try workerPID("cecho")

        let table = try berth("status", "--run-dir", sandbox.run)
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("berth pid \(host.pid)") == true, table.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("NAME ") && $0.contains("STATE") && $0.contains("PID") }, table.stdout)
        let greeterRow = lines.first { $0.hasPrefix("greeter ") }
        let cechoRow = lines.first { $0.hasPrefix("cecho ") }
        for (row, pid) in [(greeterRow, greeterPID), (cechoRow, cechoPID)] {
            let columns = row?.split(separator: " ").map(String.init) ?? []
            XCTAssertEqual(Array(columns.prefix(4)), [columns.first ?? "?", "1.0.0", "running", String(pid)], table.stdout)
        }

        let json = try berth("status", "--run-dir", sandbox.run, "--json")
        XCTAssertEqual(json.status, 0, json.stderr)
        let response = try WireResponse(line: json.stdout.trimmingCharacters(in: .newlines))
        XCTAssertEqual(response.status, 200)
        let names = (response.dataObject?["plugins"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        XCTAssertEqual(Set(names ?? []), ["greeter", "cecho"])
    }

    func testStatusShowsWhyAPluginFailed() throws {
        try sandbox.installExamples()
        // A duplicate name: refused by the host itself, so the reason is
        // deterministic (unlike reasons a worker reports, see E2ELoadFailureTests).
        try PluginBuilder.build(TestPlugins.simple(name: "greeter"), fileName: "libzgreeter.so", into: sandbox.plugins)
        try startHost()
        let report = try status()
        let refused = try plugins(in: report).filter { $0["state"] as? String == "failed" }
        let refusedFile = try XCTUnwrap(refused.first?["file"] as? String, "\(report)")
        XCTAssertEqual(refused.count, 1)

        let table = try berth("status", "--run-dir", sandbox.run)
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.contains(" failed ") && $0.contains(refusedFile) }, table.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix(refusedFile + ": ") && $0.contains(#"duplicate plugin name "greeter""#) },
                      table.stdout)
    }

    func testHelpExitsZero() throws {
        let overview = try berth("--help")
        XCTAssertEqual(overview.status, 0)
        XCTAssertTrue(overview.stdout.contains("Usage: berth <command>"), overview.stdout)
        for command in ["serve", "call", "status"] {
            let help = try berth(command, "--help")
            XCTAssertEqual(help.status, 0, command)
            XCTAssertTrue(help.stdout.contains("Usage: berth \(command)"), help.stdout)
        }
        XCTAssertTrue(try berth("serve", "--help").stdout.contains("--max-request-bytes"))
        let unknown = try berth("frobnicate")
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.contains("unknown command frobnicate"), unknown.stderr)
    }

    func testServeRejectsBadOptionsBeforeStarting() throws {
        let result = try berth("serve", "--run-dir", sandbox.run, "--no-such-option")
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("unknown option --no-such-option"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run), "a refused serve created the run dir")
    }
}
