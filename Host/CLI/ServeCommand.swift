import BerthControl
import BerthPOSIX
import BerthSupervisor
import BerthWire
import Glibc

/// `berth serve`: the host's whole life as one explicit sequence.
///
///   1. block signals (before any thread exists) and read them from a signalfd
///   2. prepare the run directory and take the pid-file lock
///   3. load or create the token
///   4. open the control socket
///   5. start a worker per plugin; log "ready" (and tell systemd) when all
///      have settled
///   6. run the event loop: SIGHUP (or POST /reload, or a change seen by
///      --watch) reloads, SIGCHLD reaps, SIGTERM/SIGINT stop
///   7. shut down: control socket, plugin sockets, workers (drained), pid file
enum ServeCommand {
    static func main(_ raw: [String]) -> Int32 {
        var configuration = Configuration()
        var watch = false
        do {
            let arguments = try Arguments(raw, valued: ["plugins", "run-dir", "max-request-bytes", "drain-seconds", "log-format", "log-level",
                                                        "instances", "crash-limit", "crash-window", "request-timeout", "tokens",
                                                        "idle-timeout", "read-timeout", "max-connections"], flags: ["watch"])
            watch = arguments.flags.contains("watch")
            if let extra = arguments.positional.first { throw Arguments.Problem(description: "unexpected argument \(extra)") }
            configuration.pluginsDirectory = arguments.options["plugins"] ?? configuration.pluginsDirectory
            configuration.runDirectory = arguments.options["run-dir"] ?? configuration.runDirectory
            configuration.tokensFile = arguments.options["tokens"]
            if let bytes = try arguments.number("max-request-bytes") { configuration.maxRequestBytes = max(64, Int(bytes)) }
            if let drain = try arguments.number("drain-seconds") { configuration.drainSeconds = drain }
            if let timeout = try arguments.number("request-timeout") { configuration.requestTimeoutSeconds = min(timeout, 86400) }
            if let seconds = try arguments.number("idle-timeout") { configuration.idleTimeout = seconds }
            if let seconds = try arguments.number("read-timeout") { configuration.readTimeout = seconds }
            if let count = try arguments.number("max-connections") { configuration.maxConnections = Int(min(1_000_000, max(1, count))) }
            if let instances = try arguments.number("instances") { configuration.instances = min(64, max(1, Int(instances))) }
            if let limit = try arguments.number("crash-limit") { configuration.crashLimit = Int(limit) }
            if let window = try arguments.number("crash-window") { configuration.crashWindowSeconds = window }
            if let format = arguments.options["log-format"] {
                guard let parsed = Log.Format(rawValue: format) else { throw Arguments.Problem(description: "--log-format is text or json") }
                Log.format = parsed
                configuration.logFormat = format
            }
            if let level = arguments.options["log-level"] {
                guard let parsed = Log.Level(rawValue: level) else { throw Arguments.Problem(description: "--log-level is debug, info, warn or error") }
                Log.minimumLevel = parsed
                configuration.logLevel = level
            }
        } catch {
            usageError("\(error)", help: Help.serve)
        }
        configuration.executable = ChildProcess.currentExecutable()
        OpenFileLimit.raiseToHardLimit()

        do {
            let host = try Host(configuration, watch: watch)
            return host.run()
        } catch {
            Log.error("cannot start: \(error)")
            return 1
        }
    }
}

/// The running host: owns the event loop, the supervisor and the control
/// server, and shuts them down in order.
final class Host {
    private let configuration: Configuration
    private let signals: SignalChannel
    private let loop: EventLoop
    private let pidFile: FileDescriptor
    private let supervisor: Supervisor
    private let controlListener: FileDescriptor
    private let control: LineServer
    private var stopping = false
    private let watch: Bool
    private var watcher: DirectoryWatcher?

    init(_ configuration: Configuration, watch: Bool) throws {
        self.watch = watch
        self.configuration = configuration
        signals = try SignalChannel([SIGTERM, SIGINT, SIGHUP, SIGCHLD])
        SignalChannel.ignoreBrokenPipe()
        loop = try EventLoop()

        try Files.makeDirectory(configuration.runDirectory, mode: 0o700)
        pidFile = try Host.lockPidFile(configuration.pidFilePath, runDirectory: configuration.runDirectory)
        let token = try AuthToken.loadOrCreate(runDirectory: configuration.runDirectory)
        var scopedTokens: [ScopedToken] = []
        if let path = configuration.tokensFile {
            scopedTokens = try TokenFile.load(path, admin: token)
            Log.info("tokens: \(scopedTokens.count) scoped token(s) from \(path)")
        }
        supervisor = Supervisor(loop: loop, configuration: configuration, token: token, scopedTokens: scopedTokens)

        try UnixSocket.replaceIfStale(configuration.controlSocketPath)
        controlListener = try UnixSocket.listen(at: configuration.controlSocketPath, mode: 0o660)
        let handler = ControlHandler(supervisor: supervisor, configuration: configuration)
        // A few operators and scripts with small requests; the timeouts keep
        // their defaults (a POST /reload waiting for its answer is not idle).
        var controlLimits = LineServer.Limits()
        controlLimits.maxConnections = 256
        controlLimits.maxRequestBytes = 64 << 10
        control = LineServer(loop: loop, listener: controlListener, handler: handler, limits: controlLimits)
        handler.server = control
        handler.onReload = { [unowned self] done in self.supervisor.reload(reason: "POST /reload", done) }
        // Once per reload that runs, however many asked for it meanwhile.
        supervisor.onReloadStart = { reasons in
            Log.info("reloading (\(reasons))")
            SystemdNotifier.reloading()
        }
        supervisor.onReloadDone = { report in
            Log.write(report.succeeded ? .info : .error, "reload done: \(report.summary)"
                      + report.failed.map { "; \($0.0): \($0.1)" }.joined(), nil)
            SystemdNotifier.ready()
        }
    }

    /// Only one host per run directory: the pid file is locked for the
    /// host's whole life, so a second `berth serve` finds out at once.
    static func lockPidFile(_ path: String, runDirectory: String) throws -> FileDescriptor {
        let fd = try FileDescriptor.open(path, O_RDWR | O_CREAT, mode: 0o644)
        if flock(fd.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? fd.readAll()).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() } ?? "?"
            fd.close()
            throw Errno(EADDRINUSE, "another berth (pid \(holder)) is serving \(runDirectory); stop it first or use another --run-dir")
        }
        _ = ftruncate(fd.rawValue, 0)
        try fd.writeAll("\(getpid())\n")
        return fd
    }

    func run() -> Int32 {
        do {
            try control.start()
            try loop.register(signals.fd, .readable) { [unowned self] _ in self.handleSignals() }
            try supervisor.start { [unowned self] report in self.announceReady(report) }
            if watch {
                watcher = try DirectoryWatcher(configuration.pluginsDirectory, loop: loop) { [unowned self] in
                    self.supervisor.reload(reason: "a change in \(self.configuration.pluginsDirectory)") { _ in }
                }
            }
        } catch {
            Log.error("cannot start: \(error)")
            shutdown()
            loop.run()
            Log.info("stopped")
            return 1
        }
        loop.run()
        Log.info("stopped")
        return 0
    }

    private func announceReady(_ report: ReloadReport) {
        let serving = supervisor.slots.filter { $0.state == "running" }.compactMap(\.name)
        Log.info("ready: \(serving.count) plugin(s) serving [\(serving.joined(separator: ", "))], \(report.failed.count) failed; control socket \(configuration.controlSocketPath)")
        SystemdNotifier.ready()
    }

    private func handleSignals() {
        for signal in signals.drain() {
            switch signal {
            case SIGCHLD:
                supervisor.reapChildren()
            case SIGTERM, SIGINT:
                Log.info("\(SignalChannel.name(signal)) received: finishing in-flight requests and stopping")
                shutdown()
            case SIGHUP:
                supervisor.reload(reason: "SIGHUP") { _ in }
            default:
                break
            }
        }
    }

    private func shutdown() {
        guard !stopping else { return }
        stopping = true
        SystemdNotifier.stopping()
        watcher = nil
        control.stopAccepting()
        Files.remove(configuration.controlSocketPath)
        controlListener.close()
        control.closeAll()
        supervisor.shutdown { [unowned self] in
            Files.remove(self.configuration.pidFilePath)
            self.pidFile.close()
            self.loop.stop()
        }
    }
}
