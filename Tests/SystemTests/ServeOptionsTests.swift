import Foundation
import Glibc
import XCTest

/// `berth serve` options and start-up failures.
final class E2EServeOptionsTests: BerthTestCase {
    func testJSONLogFormat() throws {
        let host = try startExampleHost(["--log-format", "json"])
        let cechoWorker = Int(try workerPID("cecho"))
        XCTAssertEqual(try call("greeter", "GET", "/hello/json").status, 200)
        host.signal(SIGTERM)
        XCTAssertEqual(try host.waitForExit(), 0)
        try host.waitForLog(containing: "stopped")

        var hostLines = 0
        for line in host.logLines where !line.isEmpty {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                                       "not a JSON log line: \(line)")
            XCTAssertNotNil(object["time"] as? String, line)
            XCTAssertTrue(["debug", "info", "warn", "error"].contains(object["level"] as? String ?? ""), line)
            XCTAssertNotNil(object["message"] as? String, line)
            let source = try XCTUnwrap(object["plugin"] as? String, line)
            let pid = try XCTUnwrap(jsonInt(object["pid"]), line)
            if source == "berth" {
                XCTAssertEqual(pid, Int(host.pid), line)
                hostLines += 1
            }
            // What cecho's init logs comes from its worker, tagged cecho.
            if object["message"] as? String == "cecho ready" {
                XCTAssertEqual(source, "cecho", line)
                XCTAssertEqual(pid, cechoWorker, line)
            }
        }
        XCTAssertGreaterThanOrEqual(hostLines, 3)
        XCTAssertTrue(host.logLines.contains { $0.contains(#""message":"cecho ready""#) }, host.logText)
        XCTAssertTrue(host.logLines.contains { $0.contains(#""message":"ready: 2 plugin(s) serving [cecho, greeter], 0 failed"#) },
                      host.logText)
    }

    func testLogLevelWarnHidesInfoLines() throws {
        try sandbox.installExamples()
        let host = try startHost(["--log-level", "warn"], waitUntilReady: false)
        // No "ready:" line at this level, so wait for the sockets instead.
        let ready = eventually { FileManager.default.fileExists(atPath: self.sandbox.socket("greeter"))
            && FileManager.default.fileExists(atPath: self.sandbox.socket("cecho")) }
        XCTAssertTrue(ready)
        XCTAssertEqual(try call("greeter", "GET", "/hello/quiet").status, 200)
        // A reload that fails logs an error; the reload's own info lines stay hidden.
        try "{ not json".write(toFile: sandbox.plugins + "/libCEchoPlugin.json", atomically: true, encoding: .utf8)
        host.signal(SIGHUP)
        let warning = try host.waitForLog(containing: "reload failed")
        XCTAssertTrue(warning.contains("ERROR"), warning)
        XCTAssertFalse(host.logText.contains("INFO"), host.logText)
    }

    func testMissingPluginsDirectoryIsAStartupError() throws {
        let missing = sandbox.root + "/no-such-folder"
        let host = try startHost(pluginsDirectory: missing, waitUntilReady: false)
        try host.waitForLog(containing: "cannot start: opendir(\(missing))")
        // Shutdown finishes before the event loop ever runs here; the loop
        // must still return rather than wait forever.
        _ = try host.waitForExit(timeout: 5)
        XCTAssertEqual(host.process.terminationStatus, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run + "/berth.pid"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.controlSocket))
    }

    func testInvalidOptionValuesAreRefused() throws {
        for (arguments, message) in [(["--log-format", "xml"], "--log-format is text or json"),
                                     (["--max-request-bytes", "lots"], "--max-request-bytes needs a non-negative number"),
                                     (["--instances", "1e30"], "--instances needs a non-negative number up to 1000000000, not \"1e30\""),
                                     (["--crash-limit", "inf"], "--crash-limit needs a non-negative number"),
                                     (["--log-level", "loud"], "--log-level is debug, info, warn or error")] {
            let result = try Command.run(BuildProducts.berth, ["serve", "--run-dir", sandbox.run] + arguments,
                                         environment: TestEnvironment.berth)
            XCTAssertEqual(result.status, 64, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run))
    }
}
