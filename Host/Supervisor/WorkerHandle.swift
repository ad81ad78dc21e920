import BerthChannel
import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

/// One worker process as the host sees it.
final class WorkerHandle {
    let pid: pid_t
    /// Never waits: what the worker has not read yet is queued.
    let channel: HostChannelEnd
    let stats: SharedStats
    let generation: Generation
    /// Which of the generation's instances this is (restarts keep it).
    let instance: Int
    let startedAt = Clock.wallSeconds()
    let startedMonotonic = Clock.monotonicNanoseconds()
    /// Told to finish in-flight requests and exit (its state otherwise is
    /// the slot machine's `WorkerRecord`).
    var stopping = false
    /// Waited for: its pid may now be another process's, so it is never
    /// signalled again.
    var reaped = false
    /// Set when the worker broke a limit (its watchdog reported a timeout,
    /// or the host stopped it), so its exit is told as that.
    var breach: LimitBreach?
    /// What it reported once it loaded the plugin, kept until it is served.
    var loaded: PluginReport?
    /// The name its plugin reported before init (`named`), and whether the
    /// host has decided on it yet (Supervisor+Names).
    var declaredName: String?
    var nameDecided = false

    /// The host makes them with `spawn`; unit tests make them directly to
    /// drive the executor without a process.
    init(pid: pid_t, channel: HostChannelEnd, stats: SharedStats, generation: Generation, instance: Int) {
        self.pid = pid
        self.channel = channel
        self.stats = stats
        self.generation = generation
        self.instance = instance
    }

    var uptimeSeconds: Double { Double(Clock.monotonicNanoseconds() - startedMonotonic) / 1e9 }

    /// The host's environment, but with Swift's crash backtracer off unless
    /// the user asked for it: it catches SIGSEGV to print ~60 lines, and
    /// survives a SIGSEGV sent with kill(1), so a crash would neither read
    /// as one clear log line nor always end the worker.
    static let baseEnvironment: [String] = {
        let environment = ChildProcess.currentEnvironment()
        if environment.contains(where: { $0.hasPrefix("SWIFT_BACKTRACE=") }) { return environment }
        return environment + ["SWIFT_BACKTRACE=enable=no"]
    }()

    /// A setup message the channel cannot carry.
    struct SetupRefused: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `berth worker` for one instance of a generation, then sends
    /// it the plugin's config; the worker answers on the channel once it has
    /// loaded (see InheritedDescriptors for what it inherits).
    static func spawn(configuration: Configuration, file: String, generation: Generation, instance: Int) throws -> WorkerHandle {
        guard let library = generation.library else { throw Errno(EBADF, "no library to load") }
        // Encoded before anything starts: a config over the channel's limit
        // fails the plugin with a message instead of starting a worker.
        let setup: [[UInt8]]
        do {
            setup = try ChannelCodec.datagrams(HostMessage.setup(generation.settings.workerSetup))
        } catch {
            throw SetupRefused(description: "\(PluginSettings.path(forPlugin: file)): config is \(generation.settings.config.utf8.count) bytes and \(error); keep config small and have init read large data from a file")
        }
        let (hostEnd, workerEnd) = try UnixSocket.seqpacketPair()
        defer { workerEnd.close() }
        do {
            let stats = try SharedStats(name: file)
            let settings = generation.settings
            let arguments = ["worker", "--file", file, "--host-pid", String(getpid()),
                             "--log-format", configuration.logFormat, "--log-level", configuration.logLevel,
                             "--drain-seconds", String(settings.drainSeconds)]
            var environment = baseEnvironment
            for variable in settings.environment {
                let name = variable.prefix { $0 != "=" } + "="
                environment.removeAll { $0.hasPrefix(name) }
                environment.append(variable)
            }
            let inherited = InheritedDescriptors(channel: workerEnd, library: library, stats: stats.fd)
            let pid = try ChildProcess.spawn(configuration.executable, arguments,
                                             descriptors: inherited.spawnOrder, environment: environment,
                                             programName: "berth", ownProcessGroup: true)
            let worker = WorkerHandle(pid: pid, channel: HostChannelEnd(hostEnd, waits: false), stats: stats, generation: generation,
                                      instance: instance)
            // The worker reads this before it loads the plugin. What its
            // socket has no room for yet is queued, and goes out once the
            // channel is attached to the loop and writable; a worker that is
            // already gone is reported by its exit.
            try? worker.channel.send(datagrams: setup)
            return worker
        } catch {
            hostEnd.close()
            throw error
        }
    }
}
