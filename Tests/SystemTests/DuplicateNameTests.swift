import Foundation
import Glibc
import XCTest

/// Two files that name the same plugin: the outcome is the same on every
/// start (the file whose name sorts first wins, whichever worker reports
/// first), a name that serves keeps its file, and the refused file's init
/// never runs.
final class E2EDuplicateNameTests: BerthTestCase {
    private var first: String { sandbox.plugins + "/libtwin-a.so" }
    private var second: String { sandbox.plugins + "/libtwin-b.so" }

    func testTheFileThatSortsFirstWinsEvenWhenItReportsLast() throws {
        // The file that sorts first takes 300 ms in its entry function, so
        // the other one's worker reports the name first.
        try PluginBuilder.buildAll([
            ("libtwin-a.so", LifecyclePlugins.plugin(name: "twin", version: "a", entryBody: "usleep(300000);")),
            ("libtwin-b.so", LifecyclePlugins.plugin(name: "twin", version: "b")),
        ], into: sandbox.plugins)
        let host = try startHost()

        XCTAssertEqual(try call("twin", "GET", "/ping").line, #"{"id":null,"status":200,"data":{"version":"a"}}"#)
        let report = try status()
        XCTAssertEqual(try plugin(file: "libtwin-a.so", in: report)["state"] as? String, "running")
        let refused = try plugin(file: "libtwin-b.so", in: report)
        XCTAssertEqual(refused["state"] as? String, "failed", "\(refused)")
        let error = refused["error"] as? String ?? ""
        XCTAssertTrue(error.contains(#"duplicate plugin name "twin": \#(first) also declares it and its file name sorts first, so \#(second) is not loaded (its init did not run)"#), error)
        XCTAssertTrue(host.logText.contains("plugin not loaded: \(error)"), host.logText)
        XCTAssertTrue(host.logText.contains("init ran for twin a"), host.logText)
        XCTAssertFalse(host.logText.contains("init ran for twin b"), "the refused duplicate's init ran:\n\(host.logText)")
    }

    func testANameThatServesStaysWithItsFileAndTheNewcomersInitDoesNotRun() throws {
        try PluginBuilder.build(LifecyclePlugins.plugin(name: "twin", version: "b"), fileName: "libtwin-b.so", into: sandbox.plugins)
        let host = try startHost()
        try PluginBuilder.build(LifecyclePlugins.plugin(name: "twin", version: "a"), fileName: "libtwin-a.so", into: sandbox.plugins)
        let mark = host.logMark
        host.signal(SIGHUP)
        let done = try host.waitForLog(containing: "reload done: ", after: mark)
        XCTAssertTrue(done.contains(#"\#(first): duplicate plugin name "twin": \#(second) already has it"#), done)
        XCTAssertEqual(try call("twin", "GET", "/ping").line, #"{"id":null,"status":200,"data":{"version":"b"}}"#)
        XCTAssertFalse(host.logText.contains("init ran for twin a"), "the refused duplicate's init ran:\n\(host.logText)")
    }
}
