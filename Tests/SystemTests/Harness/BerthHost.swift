import Foundation
import Glibc
import XCTest

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The products `swift test` built, found next to the test bundle so the
/// suite always runs the binaries of the same build it was compiled with.
/// BERTH_TEST_PRODUCTS=DIR runs the suite against the berth and example
/// plugins in DIR instead: that is how a regression test is shown to fail
/// on an older build (docs/testing.md).
enum BuildProducts {
    static let directory: String = {
        if let override = ProcessInfo.processInfo.environment["BERTH_TEST_PRODUCTS"], !override.isEmpty {
            return override
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }()

    static var berth: String { directory + "/berth" }
    static var greeter: String { directory + "/libGreeterPlugin.so" }
    static var cecho: String { directory + "/libCEchoPlugin.so" }
}

/// The environment every berth process gets. SWIFT_BACKTRACE is dropped so
/// the host applies its own default (backtracer off in workers): a value
/// inherited from whoever runs the suite would change how a crashed worker
/// dies and make the crash tests depend on the caller's shell.
enum TestEnvironment {
    static let berth: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = nil
        return environment
    }()
}

/// A per-test folder under /tmp. Short on purpose: socket paths must fit
/// in sun_path (107 bytes), and .build paths can be long.
final class Sandbox {
    let root: String
    var plugins: String { root + "/plugins" }
    var run: String { root + "/run" }

    init() throws {
        var template = Array("/tmp/bt-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp failed: errno \(errno)")
        }
        root = String(cString: made)
        try FileManager.default.createDirectory(atPath: root + "/plugins", withIntermediateDirectories: false)
    }

    /// Copies a plugin library into the plugins folder.
    @discardableResult
    func install(_ source: String, as fileName: String? = nil) throws -> String {
        let destination = plugins + "/" + (fileName ?? (source as NSString).lastPathComponent)
        try FileManager.default.copyItem(atPath: source, toPath: destination)
        return destination
    }

    func installExamples() throws {
        try install(BuildProducts.greeter)
        try install(BuildProducts.cecho)
    }

    func socket(_ service: String) -> String { run + "/" + service + ".sock" }
    var controlSocket: String { socket("berth") }

    func token() throws -> String {
        try String(contentsOfFile: run + "/.auth_token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Collects a process's stderr line by line on its own thread, so tests can
/// wait for the host's log lines (its readiness signals) instead of sleeping.
final class LogCollector {
    private let condition = NSCondition()
    private var lines: [String] = []
    private var partial: [UInt8] = []
    private var finished = false
    private var stopRequested = false

    /// Takes ownership of `fd`.
    init(fd: Int32) {
        let thread = Thread { [self] in self.pump(fd) }
        thread.name = "berth-log"
        thread.start()
    }

    private func pump(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            condition.lock()
            let stop = stopRequested
            condition.unlock()
            if stop { break }
            // poll with a short timeout so stop() is noticed even while a
            // leaked writer keeps the pipe open.
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 100)
            if ready == 0 || (ready < 0 && errno == EINTR) { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            append(buffer[0..<n])
        }
        close(fd)
        condition.lock()
        if !partial.isEmpty {
            lines.append(String(decoding: partial, as: UTF8.self))
            partial.removeAll()
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func append(_ bytes: ArraySlice<UInt8>) {
        condition.lock()
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: partial, as: UTF8.self))
                partial.removeAll(keepingCapacity: true)
            } else {
                partial.append(byte)
            }
        }
        condition.broadcast()
        condition.unlock()
    }

    var snapshot: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// Waits until `match` finds something in the lines from `start` on.
    /// Wakes on every new line, and every 20 ms to ask `giveUp` (e.g. "the
    /// process has exited") so a dead host fails the wait at once, after a
    /// short grace for lines still in the pipe.
    func wait<T>(from start: Int, timeout: Double, giveUp: () -> Bool, _ match: (ArraySlice<String>) -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        var graceEnds: Date?
        condition.lock()
        defer { condition.unlock() }
        while true {
            if start < lines.count, let found = match(lines[start...]) { return found }
            // At end of file every line is in: nothing more can match.
            if finished { return nil }
            let now = Date()
            if now >= deadline { return nil }
            if graceEnds == nil && giveUp() { graceEnds = now.addingTimeInterval(0.5) }
            if let graceEnds, now >= graceEnds { return nil }
            _ = condition.wait(until: min(deadline, graceEnds ?? .distantFuture, now.addingTimeInterval(0.02)))
        }
    }

    /// Waits for end of file on the pipe (every line the process wrote is
    /// in), for at most `timeout`: a descendant that leaked the pipe may
    /// keep it open longer.
    func waitUntilFinished(timeout: Double) {
        condition.lock()
        let deadline = Date().addingTimeInterval(timeout)
        while !finished && Date() < deadline { _ = condition.wait(until: deadline) }
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopRequested = true
        let deadline = Date().addingTimeInterval(2)
        while !finished && Date() < deadline { _ = condition.wait(until: deadline) }
        condition.unlock()
    }
}

/// One `berth serve` process, its stderr collected.
final class BerthHost {
    let process = Process()
    let runDirectory: String
    private let log: LogCollector

    var pid: pid_t { process.processIdentifier }

    /// `environment` adds to (or overrides) TestEnvironment.berth.
    init(pluginsDirectory: String, runDirectory: String, extraArguments: [String] = [],
         environment: [String: String] = [:], executable: String = BuildProducts.berth) throws {
        self.runDirectory = runDirectory
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--plugins", pluginsDirectory, "--run-dir", runDirectory] + extraArguments
        process.environment = TestEnvironment.berth.merging(environment) { _, added in added }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Our own close-on-exec copy: the collector closes it when done, and
        // later spawned processes (other hosts, cc) do not inherit it.
        let fd = fcntl(pipe.fileHandleForReading.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { throw HarnessError("dup of the stderr pipe failed: errno \(errno)") }
        log = LogCollector(fd: fd)
    }

    var logLines: [String] { log.snapshot }
    var logText: String { logLines.joined(separator: "\n") }
    /// The number of lines so far: pass as `after:` to wait only for newer lines.
    var logMark: Int { log.snapshot.count }

    /// Waits for a log line satisfying `predicate` and returns it.
    @discardableResult
    func waitForLog(after mark: Int = 0, timeout: Double = 10, where predicate: (String) -> Bool,
                    _ what: String) throws -> String {
        let found = log.wait(from: mark, timeout: timeout, giveUp: { !process.isRunning }) { lines in
            lines.first(where: predicate)
        }
        guard let found else {
            let why = process.isRunning ? "within \(timeout) s" : "before the host exited (status \(process.terminationStatus))"
            throw HarnessError("no log line \(what) \(why); log so far:\n\(logText)")
        }
        return found
    }

    @discardableResult
    func waitForLog(containing text: String, after mark: Int = 0, timeout: Double = 10) throws -> String {
        try waitForLog(after: mark, timeout: timeout, where: { $0.contains(text) }, "containing \"\(text)\"")
    }

    /// The host's "ready:" line: every plugin is serving or has failed.
    @discardableResult
    func waitUntilReady(timeout: Double = 10) throws -> String {
        try waitForLog(containing: "ready:", timeout: timeout)
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Waits for the process to end; returns its exit status. Throws (and
    /// leaves the process running for tearDown to kill) on timeout.
    @discardableResult
    func waitForExit(timeout: Double = 10) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline { throw HarnessError("host \(pid) still running after \(timeout) s; log:\n\(logText)") }
            usleep(10_000)
        }
        // The process is gone, but its last lines may still be in the pipe:
        // callers read logText next.
        log.waitUntilFinished(timeout: 2)
        return process.terminationStatus
    }

    /// Ends the host whatever state it is in: SIGTERM, then SIGKILL.
    func terminate() {
        if process.isRunning {
            kill(pid, SIGTERM)
            if (try? waitForExit(timeout: 5)) == nil {
                kill(pid, SIGKILL)
                _ = try? waitForExit(timeout: 5)
            }
        }
        log.stop()
    }
}

/// Facts about arbitrary processes (workers are the host's children, not ours).
enum ProcessProbe {
    /// Gone, or a zombie: once the host is dead its workers are reparented
    /// to an init that, in some sandboxes, never reaps them.
    static func isGoneOrZombie(_ pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return true }
        return status.contains("State:\tZ")
    }

    static func exists(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    static func commandName(_ pid: pid_t) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Set by Tests/sanitizers.sh. A sanitizer's allocator holds freed
    /// memory in quarantine and maps shadow memory, so there a worker's
    /// resident size says nothing about what Berth itself keeps; memory
    /// bounds are checked only in normal runs.
    static let underSanitizer = ProcessInfo.processInfo.environment["BERTH_SANITIZER"] != nil

    /// VmRSS from /proc/<pid>/status, in KiB.
    static func residentKiB(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") else {
            throw HarnessError("no VmRSS in /proc/\(pid)/status")
        }
        return kib
    }

    /// Open descriptors of a process: the entries of /proc/<pid>/fd.
    static func descriptorCount(_ pid: pid_t) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    static func waitUntilGoneOrZombie(_ pid: pid_t, timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !isGoneOrZombie(pid) {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }
}
