import Foundation
import XCTest

/// A worker is berth:<plugin> in every ps format: the short name (`ps -e`,
/// `top`) and the command line (`ps -ef`, `ps aux`), which keeps its file.
final class E2EProcessTitleTests: BerthTestCase {
    func testWorkersAreNamedAfterTheirPluginInPsFullCommandLines() throws {
        try startExampleHost()
        for name in ["greeter", "cecho"] {
            let pid = try workerPID(name)
            XCTAssertEqual(ProcessProbe.commandName(pid), "berth:\(name)")
            let commandLine = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
            let words = commandLine.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
            let file = sandbox.plugins + (name == "greeter" ? "/libGreeterPlugin.so" : "/libCEchoPlugin.so")
            XCTAssertEqual(words, ["berth:\(name)", "worker", "--file", file])
            let ps = try Command.run("/usr/bin/env", ["ps", "-o", "args=", "-p", String(pid)])
            XCTAssertEqual(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "berth:\(name) worker --file \(file)", ps.stderr)
        }
    }
}
