import Foundation
import Glibc
import XCTest

/// A plugin that failed for a reason that has passed (here: a dependency
/// that was down during init) can be brought back: a reload retries it and
/// says so, `berth restart` finds it by the name it declared or by its
/// file, and status shows that name.
final class E2EFailedPluginRetryTests: ReloadTestCase {
    private var dependency: String { sandbox.root + "/dependency-up" }
    private var flakyFile: String { sandbox.plugins + "/libflaky.so" }

    private func installFlaky() throws {
        try sandbox.install(BuildProducts.cecho)
        try PluginBuilder.build(LifecyclePlugins.needsDependency(name: "flaky"), fileName: "libflaky.so", into: sandbox.plugins)
        try #"{"environment": {"DEPENDENCY": "\#(dependency)"}}"#
            .write(toFile: sandbox.plugins + "/libflaky.json", atomically: true, encoding: .utf8)
    }

    private func failedEntry() throws -> [String: Any] {
        let entry = try plugin(file: "libflaky.so", in: try status())
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
        XCTAssertTrue((entry["error"] as? String ?? "").contains("dependency is down"), "\(entry)")
        return entry
    }

    func testAReloadRetriesAFailedPluginAndSaysSo() throws {
        try installFlaky()
        let host = try startHost()
        _ = try failedEntry()
        FileManager.default.createFile(atPath: dependency, contents: Data())

        let mark = host.logMark
        let retried = try reload()
        XCTAssertEqual(retried.status, 0, retried.stdout + retried.stderr)
        XCTAssertEqual(retried.lines, ["retried \(flakyFile)", "unchanged \(cechoFile)"])
        try host.waitForLog(containing: "[flaky] retrying: \(flakyFile) failed before", after: mark)
        try host.waitForLog(containing: "reload done: 0 added, 0 updated, 0 removed, 0 failed, 1 unchanged, 1 retried", after: mark)
        XCTAssertEqual(try call("flaky", "GET", "/ping").status, 200)
        XCTAssertEqual(try plugin("flaky", in: try status())["state"] as? String, "running")
    }

    func testRestartFindsAFailedPluginByTheNameItDeclaredOrByItsFile() throws {
        try installFlaky()
        try startHost()
        XCTAssertEqual(try failedEntry()["name"] as? String, "flaky", "status shows the name the plugin declared")

        // By name, while the dependency is still down: found, and fails again.
        let byName = try restart("flaky")
        XCTAssertEqual(byName.status, 1, byName.stdout + byName.stderr)
        XCTAssertTrue(byName.stdout.contains("failed \(flakyFile): "), byName.stdout)
        XCTAssertTrue(byName.stdout.contains("dependency is down"), byName.stdout)

        // By its file (a path to it, as an operator would type it).
        FileManager.default.createFile(atPath: dependency, contents: Data())
        let byFile = try restart(flakyFile)
        XCTAssertEqual(byFile.status, 0, byFile.stdout + byFile.stderr)
        XCTAssertEqual(byFile.lines, ["added \(flakyFile)"])
        XCTAssertEqual(try call("flaky", "GET", "/ping").status, 200)

        // By its file name, while it serves.
        let byFileName = try restart("libflaky.so")
        XCTAssertEqual(byFileName.status, 0, byFileName.stdout + byFileName.stderr)
        XCTAssertEqual(byFileName.lines, ["updated \(flakyFile)"])

        let unknown = try restart("libnosuch.so")
        XCTAssertEqual(unknown.status, 1, unknown.stdout + unknown.stderr)
        XCTAssertTrue(unknown.stdout.contains("no plugin named libnosuch.so and no plugin file of that name"), unknown.stdout)
    }
}
