import Foundation
import Glibc
import XCTest

/// drain_seconds is enforced by the host: a retiring worker busy with a
/// request that does not end is killed at drain_seconds plus a grace, so
/// the reload that retired it ends and the next is not queued behind it.
final class E2EDrainDeadlineTests: ReloadTestCase {
    func testAReloadDoesNotWaitForABusyOldWorkerPastDrainSeconds() throws {
        let hangFile = try PluginBuilder.build(LifecyclePlugins.hanging(version: "1"), fileName: "libhang.so", into: sandbox.plugins)
        // No request time limit: only the drain deadline can end the request.
        try #"{"drain_seconds": 1, "request_timeout_seconds": 0}"#
            .write(toFile: sandbox.plugins + "/libhang.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        let oldPID = try workerPID("hang")
        let busy = try connect("hang", timeout: 60)
        let mark = host.logMark
        try busy.write(WireRequest.line("GET", "/hang") + "\n")
        try host.waitForLog(containing: "hang started", after: mark)

        let update = sandbox.root + "/libhang.so"
        try PluginBuilder.build(LifecyclePlugins.hanging(version: "2"), fileName: "libhang.so", into: sandbox.root)
        XCTAssertEqual(rename(update, hangFile), 0)
        // Expected in about 3 s (1 s drain + 2 s grace); ten times that.
        let reloaded = try runBerth(["reload", "--run-dir", sandbox.run, "--timeout", "30"])
        XCTAssertEqual(reloaded.status, 0, reloaded.stdout + reloaded.stderr)
        XCTAssertEqual(reloaded.lines, ["updated \(hangFile)"])
        let killed = try host.waitForLog(containing: "worker \(oldPID) did not exit within 3 s of being asked to stop")
        XCTAssertTrue(killed.contains("raise drain_seconds in \(sandbox.plugins)/libhang.json"), killed)
        XCTAssertTrue(ProcessProbe.waitUntilGoneOrZombie(oldPID, timeout: 10), "the old worker still runs")
        XCTAssertEqual(try call("hang", "GET", "/ping").line, #"{"id":null,"status":200,"data":{"version":"2"}}"#)

        // The next reload runs at once (nothing queued behind the old worker).
        let next = try runBerth(["reload", "--run-dir", sandbox.run, "--timeout", "30"])
        XCTAssertEqual(next.status, 0, next.stdout + next.stderr)
        XCTAssertEqual(next.lines, ["unchanged \(hangFile)"])
    }
}
