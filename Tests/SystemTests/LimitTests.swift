import Foundation
import Glibc
import XCTest

/// Per-plugin resource limits: a worker that breaks one is stopped and
/// restarted, and the log and status name the limit; other plugins never
/// notice.
final class E2ELimitTests: BerthTestCase {
    /// The soft and hard values of one line of /proc/<pid>/limits.
    private func limit(_ name: String, of pid: pid_t) throws -> [String] {
        let text = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(name) }, text)
        return Array(line.dropFirst(name.count).split(separator: " ").prefix(2).map(String.init))
    }

    /// Sends `path`, which breaks a limit, and waits for the worker's
    /// replacement; returns the host's line about the stop.
    private func breakLimit(_ host: BerthHost, _ path: String, restart: Int) throws -> String {
        let pid = try workerPID("greedy")
        let mark = host.logMark
        let connection = try connect("greedy", timeout: 10)
        try connection.write(WireRequest.line("GET", path) + "\n")
        let stopped = try host.waitForLog(containing: "[greedy] worker \(pid) stopped: ", after: mark)
        try host.waitForLog(after: mark, where: { $0.contains("[greedy] serving ") && $0.hasSuffix(", restart \(restart))") },
                            "the replacement after \(path)")
        // The client is not left waiting: its connection went with the worker.
        if path != "/leak" { XCTAssertThrowsError(try connection.readLine()) }
        XCTAssertEqual(try call("greedy", "GET", "/ok").status, 200)
        return stopped
    }

    func testEachLimitStopsTheWorkerAndSaysWhich() throws {
        try sandbox.installExamples()
        try PluginBuilder.build(TestPlugins.greedy, fileName: "libgreedy.so", into: sandbox.plugins)
        try #"{"limits": {"memory_mb": 64, "cpu_seconds": 1, "open_files": 32}}"#
            .write(toFile: sandbox.plugins + "/libgreedy.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        let pid = try workerPID("greedy")
        // The worker set them on itself before loading the plugin.
        XCTAssertEqual(try limit("Max cpu time", of: pid), ["1", "2"])
        XCTAssertEqual(try limit("Max open files", of: pid), ["32", "32"])
        let greeterPID = try workerPID("greeter")

        let memory = try breakLimit(host, "/grow", restart: 1)
        XCTAssertTrue(memory.contains("stopped: memory_mb limit broken: resident size "), memory)
        XCTAssertTrue(memory.contains(" MiB, limit 64 MiB (killed); restarting in 0.1 s (restart 1)"), memory)
        XCTAssertTrue(memory.hasSuffix("other plugins are unaffected; if the plugin needs more, raise limits.memory_mb in \(sandbox.plugins)/libgreedy.json"), memory)
        var entry = try plugin("greedy", in: try status())
        XCTAssertEqual(entry["last_limit"] as? String, "memory_mb", "\(entry)")
        XCTAssertTrue((entry["last_exit"] as? String)?.hasPrefix("memory_mb limit broken") == true, "\(entry)")

        let cpu = try breakLimit(host, "/spin", restart: 2)
        XCTAssertTrue(cpu.contains("stopped: cpu_seconds limit reached: "), cpu)
        XCTAssertTrue(cpu.contains(" s of CPU time, limit 1 s (killed); restarting in 0.2 s (restart 2)"), cpu)
        entry = try plugin("greedy", in: try status())
        XCTAssertEqual(entry["last_limit"] as? String, "cpu_seconds", "\(entry)")

        let files = try breakLimit(host, "/leak", restart: 3)
        XCTAssertTrue(files.contains("stopped: open_files limit reached: 32 descriptors open, limit 32 (killed); restarting in 0.4 s (restart 3)"), files)
        entry = try plugin("greedy", in: try status())
        XCTAssertEqual(entry["last_limit"] as? String, "open_files", "\(entry)")
        XCTAssertEqual(jsonInt(entry["restarts"]), 3, "\(entry)")
        XCTAssertEqual(entry["state"] as? String, "running")

        XCTAssertEqual(try workerPID("greeter"), greeterPID)
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
    }

    func testTheLeakingHandlerSeesTheLimitItself() throws {
        try PluginBuilder.build(TestPlugins.greedy, fileName: "libgreedy.so", into: sandbox.plugins)
        // The kernel refuses the plugin's open() at the limit (the host then
        // stops the worker, after this answer has gone out).
        try #"{"limits": {"open_files": 40}}"#.write(toFile: sandbox.plugins + "/libgreedy.json", atomically: true, encoding: .utf8)
        try startHost()
        let answer = try call("greedy", "GET", "/leak")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["errno"]), Int(EMFILE), answer.line)
        XCTAssertGreaterThan(jsonInt(answer.dataObject?["opened"]) ?? 0, 20, answer.line)
    }

    /// `open_files` at its documented minimum (16) serves several clients
    /// at once (4: the worker keeps 12 for itself and its plugin), not one.
    func testTheSmallestOpenFilesLimitServesSeveralConnectionsAtOnce() throws {
        try sandbox.install(BuildProducts.cecho)
        try #"{"limits": {"open_files": 16}}"#.write(toFile: sandbox.plugins + "/libCEchoPlugin.json", atomically: true, encoding: .utf8)
        try startHost()
        let worker = try workerPID("cecho")
        var held: [WireConnection] = []
        for number in 1...4 {
            let connection = try connect("cecho")
            // A refused client's write may find the connection closed
            // already; the 503 line still waits to be read.
            try? connection.write(WireRequest.line("GET", "/ping") + "\n")
            let answer = try connection.readResponse()
            XCTAssertEqual(answer.status, 200, "connection \(number) of 4 with open_files 16: \(answer.line)")
            held.append(connection)
        }
        // All four are held open and served at once.
        for connection in held { XCTAssertEqual(try connection.call("GET", "/ping").status, 200) }
        // The next is told why at once, and the worker is not stopped for
        // its descriptors: it used only what it kept for that.
        let refused = try connect("cecho").readResponse()
        XCTAssertEqual(refused.errorCode, "too_many_connections", refused.line)
        XCTAssertEqual(try workerPID("cecho"), worker)
        XCTAssertEqual(jsonInt(try plugin("cecho", in: try status())["restarts"]), 0)
    }

    func testABadLimitIsRefusedWithWhere() throws {
        try PluginBuilder.build(TestPlugins.greedy, fileName: "libgreedy.so", into: sandbox.plugins)
        try "{\n  \"limits\": {\"memroy_mb\": 64}\n}".write(toFile: sandbox.plugins + "/libgreedy.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        try host.waitForLog(containing: #"libgreedy.json:2: "limits" member "memroy_mb" is not a limit; use memory_mb, cpu_seconds or open_files"#)
    }
}
