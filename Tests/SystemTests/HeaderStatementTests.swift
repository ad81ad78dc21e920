import Foundation
import XCTest

/// What berth.h says about symbols and memory, shown on real workers.
/// (What it says about respond_error's escaping, parameters and statuses
/// is shown in TryTests and BadBodyTests.)
final class HeaderStatementTests: BerthTestCase {
    /// A plugin's exported function named like one in libc is libc's, even
    /// for the plugin's own calls: the loader finds libc's first. A
    /// `static` one is the plugin's.
    func testAnExportedNameLibcAlsoHasIsLibcs() throws {
        let library = try PluginBuilder.build(TryPlugins.exportedNames, fileName: "libnames.so", into: sandbox.root)
        let result = try Command.run(BuildProducts.berth, ["try", library], stdin: #"{"method":"GET","path":"/names"}"# + "\n", timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        let answer = try WireResponse(line: result.stdout.trimmingCharacters(in: .newlines))
        XCTAssertEqual(jsonInt(answer.dataObject?["static"]), 42, answer.line)
        XCTAssertNotEqual(jsonInt(answer.dataObject?["exported"]), 42, answer.line)
    }

    /// Every restart is a new process: what a plugin kept in memory (here a
    /// static counter) starts empty again.
    func testARestartStartsWithEmptyMemory() throws {
        try PluginBuilder.build(TryPlugins.counter, fileName: "libcounter.so", into: sandbox.plugins)
        try startHost()
        XCTAssertEqual(jsonInt(try call("counter", "GET", "/count").dataObject?["calls"]), 1)
        XCTAssertEqual(jsonInt(try call("counter", "GET", "/count").dataObject?["calls"]), 2)
        let restart = try Command.run(BuildProducts.berth, ["restart", "--run-dir", sandbox.run, "counter"])
        XCTAssertEqual(restart.status, 0, restart.stderr)
        XCTAssertEqual(jsonInt(try call("counter", "GET", "/count").dataObject?["calls"]), 1)
    }
}
