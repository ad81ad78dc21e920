import Foundation
import Glibc
import XCTest

/// An init that never returns is bounded by init_timeout_seconds: only its
/// plugin fails, the host still says ready, and the reload that deploys a
/// fix is not held behind it.
final class E2EInitTimeoutTests: ReloadTestCase {
    func testAnInitThatNeverReturnsFailsOnlyItsPluginAndTheFixDeploys() throws {
        try sandbox.install(BuildProducts.cecho)
        let stuckFile = try PluginBuilder.build(LifecyclePlugins.stuckInit(name: "stuck"), fileName: "libstuck.so", into: sandbox.plugins)
        try #"{"init_timeout_seconds": 1}"#.write(toFile: sandbox.plugins + "/libstuck.json", atomically: true, encoding: .utf8)
        let host = try startHost(waitUntilReady: false)
        // Ten times the limit, for a loaded machine.
        let ready = try host.waitUntilReady(timeout: 10)
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [cecho], 1 failed"), ready)

        let entry = try plugin(file: "libstuck.so", in: try status())
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
        let error = entry["error"] as? String ?? ""
        XCTAssertTrue(error.contains("did not finish loading the plugin within 1 s (init_timeout_seconds)"), error)
        XCTAssertTrue(error.contains("raise init_timeout_seconds in \(sandbox.plugins)/libstuck.json"), error)
        XCTAssertTrue(host.logText.contains("plugin not loaded: \(error)"), host.logText)
        XCTAssertEqual(entry["name"] as? String, "stuck", "the name it declared: \(entry)")
        XCTAssertTrue(host.logText.contains("init ran for stuck"), host.logText)
        XCTAssertTrue(eventually(timeout: 10) { self.workerProcesses(of: stuckFile).isEmpty }, "the stuck worker was not killed")
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)

        // The fix deploys with the next reload.
        let fixed = sandbox.root + "/libstuck.so"
        try PluginBuilder.build(LifecyclePlugins.plugin(name: "stuck", version: "2.0.0"), fileName: "libstuck.so", into: sandbox.root)
        XCTAssertEqual(rename(fixed, stuckFile), 0)
        let deployed = try runBerth(["reload", "--run-dir", sandbox.run, "--timeout", "30"])
        XCTAssertEqual(deployed.status, 0, deployed.stdout + deployed.stderr)
        XCTAssertEqual(deployed.lines, ["added \(stuckFile)", "unchanged \(cechoFile)"])
        XCTAssertEqual(try call("stuck", "GET", "/ping").line, #"{"id":null,"status":200,"data":{"version":"2.0.0"}}"#)
    }

    /// The host flag sets the limit for every plugin without its own, and
    /// a reload asked for while the plugin hangs in init is answered.
    func testTheHostFlagLimitsInitAndAQueuedReloadIsAnswered() throws {
        try sandbox.install(BuildProducts.cecho)
        try PluginBuilder.build(LifecyclePlugins.stuckInit(name: "stuck"), fileName: "libstuck.so", into: sandbox.plugins)
        let host = try startHost(["--init-timeout", "1"], waitUntilReady: false)
        // The control socket exists before any plugin starts loading; no
        // line announces it.
        XCTAssertTrue(eventually(timeout: 10) { FileManager.default.fileExists(atPath: self.sandbox.controlSocket) },
                      "no control socket:\n\(host.logText)")
        let reloaded = try runBerth(["reload", "--run-dir", sandbox.run, "--timeout", "30"])
        XCTAssertNotEqual(reloaded.status, 2, "the reload was not answered: " + reloaded.stdout + reloaded.stderr)
        XCTAssertTrue(reloaded.stdout.contains("\(sandbox.plugins)/libstuck.so"), reloaded.stdout)
        let ready = try host.waitUntilReady(timeout: 10)
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [cecho], 1 failed"), ready)
        let error = try plugin(file: "libstuck.so", in: try status())["error"] as? String ?? ""
        XCTAssertTrue(error.contains("within 1 s (init_timeout_seconds)"), error)
        XCTAssertTrue(error.contains("or berth serve --init-timeout"), error)
    }
}
