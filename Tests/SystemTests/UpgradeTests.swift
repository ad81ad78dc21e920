import Foundation
import Glibc
import XCTest

/// A package upgrade replaces the berth binary under a running host. The
/// workers it starts afterwards (restarts, reloads) must still be its own
/// build: host and worker speak a channel only the same build reads.
final class E2EUpgradeTests: BerthTestCase {
    func testAWorkerStartedAfterTheBinaryWasReplacedIsTheHostsOwnBuild() throws {
        try sandbox.installExamples()
        let binary = sandbox.root + "/berth"
        try FileManager.default.copyItem(atPath: BuildProducts.berth, toPath: binary)
        let host = try startHost(executable: binary)
        let oldPID = try workerPID("cecho")

        // What dpkg does: the new file is written beside the old and renamed
        // over it. This "new version" cannot be a worker at all.
        let replacement = binary + ".dpkg-new"
        try "#!/bin/sh\necho 'not the host build' >&2\nexit 3\n".write(toFile: replacement, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(replacement, 0o755), 0)
        XCTAssertEqual(rename(replacement, binary), 0)

        let mark = host.logMark
        XCTAssertEqual(kill(oldPID, SIGKILL), 0)
        try host.waitForLog(after: mark, where: {
            $0.contains("[cecho] serving \(self.sandbox.socket("cecho")) (version 1.0.0, generation 1, worker ") && $0.hasSuffix(", restart 1)")
        }, "cecho's replacement worker, started after the binary was replaced, serving")
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
        XCTAssertNotEqual(try workerPID("cecho"), oldPID)
        XCTAssertFalse(host.logText.contains("not the host build"), host.logText)
    }
}
