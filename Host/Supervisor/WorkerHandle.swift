import BerthPOSIX
import Glibc

/// One running worker process as the host sees it.
final class WorkerHandle {
    let pid: pid_t
    let channel: FileDescriptor
    let stats: SharedStats
    let startedAt = Clock.wallSeconds()
    let startedMonotonic = Clock.monotonicNanoseconds()
    var channelOpen = true

    init(pid: pid_t, channel: FileDescriptor, stats: SharedStats) {
        self.pid = pid
        self.channel = channel
        self.stats = stats
    }

    var uptimeSeconds: Double { Double(Clock.monotonicNanoseconds() - startedMonotonic) / 1e9 }

    /// The host's environment, but with Swift's crash backtracer off unless
    /// the user asked for it: it catches SIGSEGV to print ~60 lines, and
    /// survives a SIGSEGV sent with kill(1), so a crash would neither read
    /// as one clear log line nor always end the worker.
    static let workerEnvironment: [String] = {
        let environment = ChildProcess.currentEnvironment()
        if environment.contains(where: { $0.hasPrefix("SWIFT_BACKTRACE=") }) { return environment }
        return environment + ["SWIFT_BACKTRACE=enable=no"]
    }()

    /// Starts `berth worker` for a plugin library. The library goes in as a
    /// private in-memory copy, so rewriting the file on disk cannot change
    /// code a worker has mapped.
    static func spawn(configuration: Configuration, file: String, library: FileDescriptor) throws -> WorkerHandle {
        let (hostEnd, workerEnd) = try UnixSocket.seqpacketPair()
        defer { workerEnd.close() }
        do {
            let stats = try SharedStats(name: file)
            let arguments = ["worker", "--file", file, "--host-pid", String(getpid()),
                             "--log-format", configuration.logFormat, "--log-level", configuration.logLevel,
                             "--drain-seconds", String(configuration.drainSeconds)]
            let pid = try ChildProcess.spawn(configuration.executable, arguments,
                                             descriptors: [workerEnd, library, stats.fd], environment: workerEnvironment)
            return WorkerHandle(pid: pid, channel: hostEnd, stats: stats)
        } catch {
            hostEnd.close()
            throw error
        }
    }
}
