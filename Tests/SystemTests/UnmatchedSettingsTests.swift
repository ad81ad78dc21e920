import Foundation
import XCTest

/// A settings file is read only from <file>.json beside <file>.so. One
/// named after the plugin instead (libgreeter.json beside
/// libGreeterPlugin.so) is warned about in the log and listed in status,
/// instead of being ignored without a word.
final class E2EUnmatchedSettingsTests: BerthTestCase {
    func testASettingsFileWithNoPluginFileOfItsNameIsWarnedAboutInTheLogAndInStatus() throws {
        try sandbox.installExamples()
        let stray = sandbox.plugins + "/libgreeter.json"
        try #"{"instances": 2}"#.write(toFile: stray, atomically: true, encoding: .utf8)
        let host = try startHost()
        let warning = try host.waitForLog(containing: "settings file \(stray) is not read")
        XCTAssertTrue(warning.contains("there is no \(sandbox.plugins)/libgreeter.so"), warning)
        XCTAssertTrue(warning.contains("libGreeterPlugin.json for libGreeterPlugin.so"), warning)

        let hostStatus = try XCTUnwrap(try status()["host"] as? [String: Any])
        XCTAssertEqual(hostStatus["unmatched_settings"] as? [String], [stray])
        let table = try Command.run(BuildProducts.berth, ["status", "--run-dir", sandbox.run], environment: TestEnvironment.berth)
        XCTAssertTrue(table.stdout.contains("\(stray): settings file not read"), table.stdout)

        // Named after its library, it is read, and the warning goes.
        XCTAssertEqual(rename(stray, sandbox.plugins + "/libGreeterPlugin.json"), 0)
        let reload = try Command.run(BuildProducts.berth, ["reload", "--run-dir", sandbox.run], environment: TestEnvironment.berth, timeout: 60)
        XCTAssertEqual(reload.status, 0, reload.stdout + reload.stderr)
        let greeter = try plugin("greeter", in: try status())
        XCTAssertEqual(jsonInt(greeter["instances"]), 2, "\(greeter)")
        XCTAssertEqual((try status()["host"] as? [String: Any])?["unmatched_settings"] as? [String], [])
    }
}
