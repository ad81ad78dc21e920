import Foundation
import Glibc
import XCTest

/// A worker that exits 72 while loading could not reach the host over its
/// channel: the host says so instead of blaming a crash in init.
final class E2ELoadExitMessageTests: BerthTestCase {
    func testExit72IsReportedAsTheChannelNotACrashInInit() throws {
        try sandbox.install(BuildProducts.cecho)
        // Closing descriptor 3 (the host's channel) in the entry function
        // leaves the worker nothing to report on: it exits 72.
        try PluginBuilder.build(LifecyclePlugins.plugin(name: "mute", entryBody: "close(3);"), fileName: "libmute.so", into: sandbox.plugins)
        let host = try startHost()
        let entry = try plugin(file: "libmute.so", in: try status())
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
        let error = entry["error"] as? String ?? ""
        XCTAssertTrue(error.contains("exited with code 72 while loading the plugin: it could not send to the host over its channel (not a crash in the plugin"), error)
        XCTAssertFalse(error.contains("crash in its entry or init function"), error)
        XCTAssertTrue(host.logText.contains("cannot reach the host"), host.logText)
    }
}
