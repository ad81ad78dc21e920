import Foundation
import XCTest

/// Each command's usage line lists every option its help describes, and
/// the parser accepts each of them.
final class E2ECLIUsageTests: BerthTestCase {
    func testEveryUsageLineListsEveryOptionOfItsCommand() throws {
        for command in ["serve", "call", "status", "reload", "restart"] {
            let help = try Command.run(BuildProducts.berth, [command, "--help"], environment: TestEnvironment.berth)
            XCTAssertEqual(help.status, 0, command)
            let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let usage = try XCTUnwrap(lines.first { $0.hasPrefix("Usage: berth \(command)") }, help.stdout)
            let optionsStart = try XCTUnwrap(lines.firstIndex(of: "Options:"), "\(command) --help has no Options: section")
            // Option lines start "  --name"; continuation lines are indented further.
            let options = lines[(optionsStart + 1)...].compactMap { line -> String? in
                guard line.hasPrefix("  --") else { return nil }
                return line.dropFirst(2).split(separator: " ").first.map(String.init)
            }
            XCTAssertFalse(options.isEmpty, help.stdout)
            // serve's usage is a summary ([options]); the client commands list them all.
            if command == "serve" { continue }
            for option in options {
                XCTAssertTrue(usage.contains("[\(option) ") || usage.contains("[\(option)]"), "\(command): \(usage) lacks \(option)")
            }
        }
    }
}
