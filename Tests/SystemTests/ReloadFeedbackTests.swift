import Foundation
import Glibc
import XCTest

/// What an operator sees of a reload that failed: `berth reload` says the
/// old version keeps serving, and `berth status` marks the plugin (a * in
/// STATE and a reason line) until a later reload succeeds, so a SIGHUP that
/// failed is visible afterwards too.
final class E2EReloadFeedbackTests: BerthTestCase {
    private func berth(_ arguments: String...) throws -> Command.Result {
        try Command.run(BuildProducts.berth, arguments, environment: TestEnvironment.berth, timeout: 60)
    }

    private func statusLines() throws -> [String] {
        let table = try berth("status", "--run-dir", sandbox.run)
        XCTAssertEqual(table.status, 0, table.stderr)
        return table.stdout.split(separator: "\n").map(String.init)
    }

    private func row(_ name: String, in lines: [String]) -> [String] {
        lines.first { $0.hasPrefix(name + " ") }?.split(separator: " ").map(String.init) ?? []
    }

    func testAFailedReloadSaysTheOldVersionKeepsServingAndStatusMarksItUntilAReloadSucceeds() throws {
        let host = try startExampleHost()
        let cecho = sandbox.plugins + "/libCEchoPlugin.so"
        let broken = "this is not a shared library\n"
        // Written beside it and renamed over it, as a deploy would.
        try broken.write(toFile: cecho + ".tmp", atomically: false, encoding: .utf8)
        XCTAssertEqual(rename(cecho + ".tmp", cecho), 0)

        // SIGHUP: nothing answers the operator, so the log and status must.
        let mark = host.logMark
        host.signal(SIGHUP)
        let done = try host.waitForLog(containing: "reload done:", after: mark, timeout: 30)
        XCTAssertTrue(done.contains("\(cecho): ") && done.hasSuffix("; version 1.0.0 keeps serving"), done)

        var lines = try statusLines()
        XCTAssertEqual(Array(row("cecho", in: lines).prefix(3)), ["cecho", "1.0.0", "running*"], lines.joined(separator: "\n"))
        XCTAssertEqual(Array(row("greeter", in: lines).prefix(3)), ["greeter", "1.0.0", "running"], lines.joined(separator: "\n"))
        let reason = lines.first { $0.hasPrefix(cecho + ": * last reload failed (version 1.0.0 keeps serving until a reload succeeds): ") }
        XCTAssertNotNil(reason, lines.joined(separator: "\n"))
        XCTAssertEqual(try call("cecho", "GET", "/ping", token: try sandbox.token()).status, 200)

        // berth reload: the failed line says what still serves, and the
        // JSON report says it as serving_version.
        let reload = try berth("reload", "--run-dir", sandbox.run)
        XCTAssertEqual(reload.status, 1, reload.stdout + reload.stderr)
        let failed = reload.stdout.split(separator: "\n").first { $0.hasPrefix("failed \(cecho): ") }.map(String.init) ?? ""
        XCTAssertTrue(failed.hasSuffix("; version 1.0.0 keeps serving"), reload.stdout)
        let json = try berth("reload", "--run-dir", sandbox.run, "--json")
        let report = try WireResponse(line: json.stdout.trimmingCharacters(in: .newlines))
        let failures = report.dataObject?["failed"] as? [[String: Any]] ?? []
        XCTAssertEqual(failures.first?["serving_version"] as? String, "1.0.0", json.stdout)

        // A plugin that never served says so instead.
        try broken.write(toFile: sandbox.plugins + "/libnew.so", atomically: false, encoding: .utf8)
        let added = try berth("reload", "--run-dir", sandbox.run)
        let newLine = added.stdout.split(separator: "\n").first { $0.hasPrefix("failed \(sandbox.plugins)/libnew.so: ") } ?? ""
        XCTAssertTrue(newLine.hasSuffix("; not serving"), added.stdout)
        try FileManager.default.removeItem(atPath: sandbox.plugins + "/libnew.so")

        // A reload that succeeds clears the mark.
        try FileManager.default.removeItem(atPath: cecho)
        try sandbox.install(BuildProducts.cecho)
        let fixed = try berth("reload", "--run-dir", sandbox.run)
        XCTAssertEqual(fixed.status, 0, fixed.stdout + fixed.stderr)
        lines = try statusLines()
        XCTAssertEqual(Array(row("cecho", in: lines).prefix(3)), ["cecho", "1.0.0", "running"], lines.joined(separator: "\n"))
        XCTAssertFalse(lines.contains { $0.contains("last reload failed") }, lines.joined(separator: "\n"))
    }
}
