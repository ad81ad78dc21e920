import Foundation
import Glibc
import XCTest

/// What clients can make a worker hold: unfinished requests count against
/// one total per worker, and large buffers, for requests or for answers,
/// are given back to the system once they are done with.
final class E2EInputMemoryTests: BerthTestCase {
    /// 300 clients each send 1 MB of a request and stop: before, the worker
    /// held every one (300 MB, about 10 GB with the default 10,000
    /// connections) and kept the memory after they left.
    func testUnfinishedRequestsCannotPinMoreThanTheWorkersTotal() throws {
        try XCTSkipIf(ProcessProbe.underSanitizer, "a sanitizer's allocator keeps freed memory")
        try raiseOwnOpenFileLimit(to: 1200)
        let host = try startExampleHost(["--read-timeout", "300"])
        let worker = try workerPID("cecho")
        let before = try ProcessProbe.residentKiB(worker)
        let unfinished = Array((#"{"method":"POST","path":"/echo","data":""# + String(repeating: "a", count: 1_000_000)).utf8)
        var connections: [WireConnection] = []
        for _ in 0..<300 {
            let connection = try connect("cecho", timeout: 30)
            try connection.write(unfinished)
            connections.append(connection)
        }
        let during = try ProcessProbe.residentKiB(worker) - before
        XCTAssertLessThan(during, 128 << 10, "300 unfinished 1 MB requests grew the worker by \(during >> 10) MiB")
        try host.waitForLog(containing: "input_buffers_full", timeout: 20)

        // Those past the total were told why.
        let refused = connections.filter { connection in
            var descriptor = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
            return poll(&descriptor, 1, 0) > 0
        }
        XCTAssertGreaterThan(refused.count, 0)
        if let first = refused.first {
            let answer = try first.readResponse()
            XCTAssertEqual(answer.status, 503, answer.line)
            XCTAssertEqual(answer.errorCode, "input_buffers_full", answer.line)
            XCTAssertTrue(answer.errorMessage?.contains("unfinished requests") == true, answer.line)
        }

        for connection in connections { connection.close() }
        var after = 0
        let released = try eventually(timeout: 20) {
            after = try ProcessProbe.residentKiB(worker) - before
            return after < 24 << 10
        }
        XCTAssertTrue(released, "the worker still holds \(after >> 10) MiB more than before, after every client left")
        XCTAssertEqual(try connect("cecho").call("GET", "/ping").status, 200)
    }

    /// The total is a setting: 8 MiB for this plugin, so 40 unfinished
    /// 1 MB requests hold at most that.
    func testTheTotalIsAPluginSetting() throws {
        try XCTSkipIf(ProcessProbe.underSanitizer, "a sanitizer's allocator keeps freed memory")
        try sandbox.installExamples()
        try #"{"max_buffered_input_mb": 8}"#.write(toFile: sandbox.plugins + "/libCEchoPlugin.json", atomically: true, encoding: .utf8)
        let host = try startHost(["--read-timeout", "300"])
        let worker = try workerPID("cecho")
        let before = try ProcessProbe.residentKiB(worker)
        let unfinished = Array((#"{"method":"POST","path":"/echo","data":""# + String(repeating: "a", count: 1_000_000)).utf8)
        var connections: [WireConnection] = []
        for _ in 0..<40 {
            let connection = try connect("cecho", timeout: 30)
            try connection.write(unfinished)
            connections.append(connection)
        }
        let during = try ProcessProbe.residentKiB(worker) - before
        XCTAssertLessThan(during, 24 << 10, "40 unfinished 1 MB requests grew the worker by \(during >> 10) MiB")
        let line = try host.waitForLog(containing: "input_buffers_full", timeout: 20)
        XCTAssertTrue(line.contains("held 8 MiB"), line)
        withExtendedLifetime(connections) {}
    }

    /// A 64 MiB answer of a plugin that keeps its copy: the worker used to
    /// copy it twice (into its answer buffer, then into the connection's
    /// output) and keep the first copy for good.
    func testALargeAnswerIsCopiedOnceAndNotKept() throws {
        try XCTSkipIf(ProcessProbe.underSanitizer, "a sanitizer's allocator keeps freed memory")
        try PluginBuilder.build(TestPlugins.large, fileName: "liblarge.so", into: sandbox.plugins)
        _ = try startHost()
        let worker = try workerPID("large")
        let before = try ProcessProbe.residentKiB(worker)
        let connection = try connect("large", timeout: 60)
        try connection.write(WireRequest.line("GET", "/large/64") + "\n")
        let length = try readLineLength(connection)
        XCTAssertGreaterThan(length, 64 << 20, "the answer is cut")
        // The plugin's 64 MiB stay; Berth's copy must not. The worker frees
        // it just after its last write, which the client may see first:
        // wait for it (nothing announces it).
        var after = 0
        let released = try eventually(timeout: 10) {
            after = try ProcessProbe.residentKiB(worker) - before
            return after < (64 + 16) << 10
        }
        XCTAssertTrue(released, "the worker still holds \(after >> 10) MiB after sending a 64 MiB answer")
        // The plugin's 64 MiB and one copy, not two.
        let peak = try statusKiB(worker, "VmHWM:") - before
        XCTAssertLessThan(peak, (128 + 32) << 10, "the worker peaked \(peak >> 10) MiB above its size before the answer")
    }

    /// Reads up to a newline without keeping the bytes; returns how many came.
    private func readLineLength(_ connection: WireConnection) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { read(connection.fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HarnessError("the answer ended after \(total) bytes without a newline (errno \(errno))") }
            if let newline = chunk[0..<n].firstIndex(of: UInt8(ascii: "\n")) { return total + newline }
            total += n
        }
    }

    /// A KiB figure from /proc/<pid>/status ("VmHWM:", the peak resident size).
    private func statusKiB(_ pid: pid_t, _ field: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kib = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") else {
            throw HarnessError("no \(field) in /proc/\(pid)/status")
        }
        return kib
    }
}
