import BerthSupervisor
import XCTest

/// Settings files are found by the name of the .so they sit beside.
final class UnitUnmatchedSettingsTests: XCTestCase {
    func testOnlySettingsWithNoLibraryOfTheirNameAreUnmatched() {
        let names = ["libGreeterPlugin.so", "libGreeterPlugin.json", "libgreeter.json", "libCEchoPlugin.so", "notes.txt", "x.json.so", "x.json"]
        // x.json.so's settings would be x.json.json: x.json has no x.so.
        XCTAssertEqual(UnmatchedSettings.find(in: names), ["libgreeter.json", "x.json"])
        XCTAssertEqual(UnmatchedSettings.find(in: ["liba.json"]), ["liba.json"])
        XCTAssertEqual(UnmatchedSettings.find(in: []), [])
    }

    func testTheWarningNamesTheMissingLibraryAndTheNamesThatWouldWork() {
        XCTAssertEqual(UnmatchedSettings.warning("libgreeter.json", folder: "plugins.d", candidates: ["libGreeterPlugin.so"]),
                       "settings file plugins.d/libgreeter.json is not read: there is no plugins.d/libgreeter.so (a plugin's settings are <file>.json beside <file>.so); rename it after the plugin file it is for: libGreeterPlugin.json for libGreeterPlugin.so")
        XCTAssertTrue(UnmatchedSettings.warning("liba.json", folder: "p", candidates: []).hasSuffix("; remove it, or put the plugin file it is for beside it as liba.so"))
    }
}
