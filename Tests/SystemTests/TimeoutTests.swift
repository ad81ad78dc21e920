import Foundation
import Glibc
import XCTest

/// A handler that runs past its limit gets its client a 504 and its worker
/// replaced, while other plugins and other instances keep serving.
final class E2ETimeoutTests: BerthTestCase {
    private func installSleepy(settings: String? = nil) throws {
        try PluginBuilder.build(TestPlugins.sleepy, fileName: "libsleepy.so", into: sandbox.plugins)
        if let settings { try settings.write(toFile: sandbox.plugins + "/libsleepy.json", atomically: true, encoding: .utf8) }
    }

    func testHandlerPastItsLimitGets504WhileOthersKeepServing() throws {
        try sandbox.installExamples()
        try installSleepy(settings: #"{"instances": 2}"#)
        let host = try startHost()
        let pids = try XCTUnwrap(plugin("sleepy", in: try status())["pids"] as? [NSNumber]).map(\.int32Value)
        XCTAssertEqual(pids.count, 2)

        // Pipelined: the two answers queued before the hung request reach
        // the client first, then the 504 with the request's own id.
        let mark = host.logMark
        let victim = try connect("sleepy", timeout: 10)
        try victim.write([WireRequest.line("GET", "/ok", id: "1"), WireRequest.line("GET", "/ok", id: "2"),
                          WireRequest.line("GET", "/hang", id: #""h""#)].map { $0 + "\n" }.joined())
        try host.waitForLog(containing: "[sleepy] hang started", after: mark)
        let began = Date()

        // Meanwhile the other instance and the other plugins answer.
        for i in 0..<5 {
            XCTAssertEqual(try call("sleepy", "GET", "/ok", id: String(i)).line, #"{"id":\#(i),"status":200,"data":{"ok":true}}"#)
            XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
            XCTAssertEqual(try call("greeter", "GET", "/hello/x").status, 200)
        }

        XCTAssertEqual(try victim.readLine(), #"{"id":1,"status":200,"data":{"ok":true}}"#)
        XCTAssertEqual(try victim.readLine(), #"{"id":2,"status":200,"data":{"ok":true}}"#)
        let timedOut = try victim.readResponse()
        let waited = Date().timeIntervalSince(began)
        XCTAssertEqual(timedOut.rawID, #""h""#, timedOut.line)
        XCTAssertEqual(timedOut.status, 504, timedOut.line)
        XCTAssertEqual(timedOut.errorCode, "timeout", timedOut.line)
        XCTAssertTrue(timedOut.errorMessage?.hasPrefix("plugin sleepy: GET /hang ran past its 1 s time limit, so its worker was stopped and replaced") == true, timedOut.line)
        // The limit is the route's own 1 s (ABI route policy), not the 30 s
        // default; the watchdog is at most a tick (100 ms) late.
        XCTAssertLessThan(waited, 2.5)
        XCTAssertGreaterThan(waited, 0.8)
        XCTAssertTrue(try victim.isClosedByServer())

        let stopped = try host.waitForLog(after: mark, where: {
            $0.contains("[sleepy] worker ") && $0.contains(" stopped: request GET /hang ran past its 1 s time limit (the client got 504); replacing it now (restart 1)")
        }, "telling the timeout")
        XCTAssertTrue(stopped.hasSuffix("if the route needs longer, raise route_timeouts or request_timeout_seconds in \(sandbox.plugins)/libsleepy.json"), stopped)
        let oldPID = try XCTUnwrap(pids.first { stopped.contains("worker \($0) stopped") })
        try host.waitForLog(after: mark, where: { $0.contains("[sleepy] serving ") && $0.hasSuffix(", restart 1)") }, "announcing the replacement")

        let entry = try plugin("sleepy", in: try status())
        let now = try XCTUnwrap(entry["pids"] as? [NSNumber]).map(\.int32Value)
        XCTAssertEqual(now.count, 2)
        XCTAssertFalse(now.contains(oldPID), "\(entry)")
        XCTAssertTrue(now.contains(pids.first { $0 != oldPID }!), "the other instance was left alone: \(entry)")
        XCTAssertEqual(jsonInt(entry["timeouts"]), 1, "\(entry)")
        XCTAssertEqual(jsonInt(entry["restarts"]), 1, "\(entry)")
        XCTAssertEqual(entry["last_limit"] as? String, "request_timeout", "\(entry)")
        XCTAssertEqual(entry["last_exit"] as? String, "request GET /hang ran past its 1 s time limit (the client got 504)")
        XCTAssertEqual(entry["state"] as? String, "running")
        // 3 + 5 answered by the workers, the 504 counted by the host.
        XCTAssertEqual(jsonInt(entry["requests"]), 8, "\(entry)")
        XCTAssertEqual(jsonInt(entry["errors"]), 1, "\(entry)")
        XCTAssertEqual(jsonInt(try plugin("cecho", in: try status())["restarts"]), 0)
        XCTAssertEqual(try call("sleepy", "GET", "/ok").status, 200)
    }

    func testSettingsAndTheHostFlagSetTheLimitsMostSpecificFirst() throws {
        // Host-wide 0.4 s; the settings give /slow 0.3 s and /nap no limit.
        try installSleepy(settings: #"{"route_timeouts": {"GET /slow": 0.3, "GET /nap": 0}}"#)
        let host = try startHost(["--request-timeout", "0.4"])
        let connection = try connect("sleepy")

        let slow = try connection.call("GET", "/slow", id: "1")
        XCTAssertEqual(slow.status, 504, slow.line)
        XCTAssertTrue(slow.errorMessage?.contains("GET /slow ran past its 0.3 s time limit") == true, slow.line)
        try host.waitForLog(after: 0, where: { $0.contains("[sleepy] serving ") && $0.hasSuffix(", restart 1)") }, "the first replacement")

        XCTAssertEqual(try call("sleepy", "GET", "/nap").line, #"{"id":null,"status":200,"data":{"nap":true}}"#)
        let snooze = try call("sleepy", "GET", "/snooze")
        XCTAssertEqual(snooze.status, 504, snooze.line)
        XCTAssertTrue(snooze.errorMessage?.contains("GET /snooze ran past its 0.4 s time limit") == true, snooze.line)
        try host.waitForLog(after: 0, where: { $0.contains("[sleepy] serving ") && $0.hasSuffix(", restart 2)") }, "the second replacement")
        // Timeouts are not crashes: no backoff and no crash loop.
        XCTAssertEqual(jsonInt(try plugin("sleepy", in: try status())["timeouts"]), 2)
        XCTAssertFalse(host.logText.contains("restarting in"), host.logText)
    }

    func testPluginWideSettingAndARouteTheSettingsGetWrong() throws {
        try installSleepy(settings: #"{"request_timeout_seconds": 0.4}"#)
        let host = try startHost()
        let snooze = try call("sleepy", "GET", "/snooze")
        XCTAssertEqual(snooze.status, 504, snooze.line)
        XCTAssertTrue(snooze.errorMessage?.contains("GET /snooze ran past its 0.4 s time limit") == true, snooze.line)
        try host.waitForLog(after: 0, where: { $0.contains("[sleepy] serving ") && $0.hasSuffix(", restart 1)") }, "the replacement")

        // A route the plugin does not have: the new settings are refused,
        // and the running generation keeps serving.
        try #"{"route_timeouts": {"GET /nope": 1}}"#.write(toFile: sandbox.plugins + "/libsleepy.json", atomically: true, encoding: .utf8)
        let reload = try Command.run(BuildProducts.berth, ["reload", "--run-dir", sandbox.run])
        XCTAssertEqual(reload.status, 1, reload.stdout + reload.stderr)
        XCTAssertTrue(reload.stdout.contains(#"libsleepy.json: route_timeouts names "GET /nope", which plugin sleepy does not have; its routes are GET /ok, GET /hang, GET /slow, GET /nap, GET /snooze"#),
                      reload.stdout + reload.stderr)
        XCTAssertEqual(try call("sleepy", "GET", "/ok").status, 200)
    }
}
