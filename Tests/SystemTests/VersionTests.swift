import Foundation
import XCTest

/// `berth --version` names Berth's version and the ABI berth.h defines,
/// and CHANGELOG.md's newest release is that version speaking that ABI.
final class E2EVersionTests: BerthTestCase {
    func testVersionMatchesTheHeaderAndTheChangelog() throws {
        let result = try Command.run(BuildProducts.berth, ["--version"], environment: TestEnvironment.berth)
        XCTAssertEqual(result.status, 0)
        let header = try String(contentsOfFile: PluginBuilder.includeDirectory + "/berth.h", encoding: .utf8)
        func define(_ name: String) -> String? {
            header.split(separator: "\n").first { $0.hasPrefix("#define \(name) ") }?.split(separator: " ").last.map(String.init)
        }
        let abi = "\(try XCTUnwrap(define("BERTH_ABI_MAJOR"))).\(try XCTUnwrap(define("BERTH_ABI_MINOR")))"

        let changelog = try String(contentsOfFile: PluginBuilder.repositoryRoot + "/CHANGELOG.md", encoding: .utf8)
        // "## 0.2.0 (unreleased): plugin ABI 1.2" — the first heading with a version number.
        let released = try XCTUnwrap(changelog.split(separator: "\n").first { $0.hasPrefix("## ") && $0.dropFirst(3).first?.isNumber == true },
                                     "CHANGELOG.md has no released version")
        let version = try XCTUnwrap(released.dropFirst(3).split(separator: " ").first.map(String.init))
        XCTAssertTrue(released.hasSuffix("plugin ABI \(abi)"), "\(released) should end with plugin ABI \(abi)")
        XCTAssertEqual(result.stdout, "berth \(version) (plugin ABI \(abi))\n")
    }
}
