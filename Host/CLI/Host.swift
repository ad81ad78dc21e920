import BerthAuth
import BerthControl
import BerthPOSIX
import BerthSupervisor
import BerthSupport
import BerthWire
import Glibc

/// The running host: owns the event loop, the supervisor and the control
/// server, and shuts them down in order.
final class Host {
    private let configuration: Configuration
    private let signals: SignalChannel
    private let loop: EventLoop
    private let pidFile: PidFile
    private let supervisor: Supervisor
    private let controlListener: FileDescriptor
    private let control: LineServer
    private var stopping = false
    private let watch: Bool
    private var watcher: DirectoryWatcher?

    init(_ configuration: Configuration, watch: Bool, runDirectoryGroupWritable: Bool) throws {
        self.watch = watch
        self.configuration = configuration
        signals = try SignalChannel([SIGTERM, SIGINT, SIGHUP, SIGCHLD])
        SignalChannel.ignoreBrokenPipe()
        loop = try EventLoop()
        LogThrottle.loop = loop

        try RunDirectory.prepare(configuration.runDirectory, groupWritable: runDirectoryGroupWritable)
        pidFile = try PidFile.lock(configuration.pidFilePath, runDirectory: configuration.runDirectory)
        let token: AuthToken
        var scopedTokens: [ScopedToken] = []
        do {
            token = try AuthToken.loadOrCreate(runDirectory: configuration.runDirectory)
            if let path = configuration.tokensFile {
                scopedTokens = try TokenFile.load(path, admin: token)
                Log.info("tokens: \(scopedTokens.count) scoped token(s) from \(path)")
            }
            try UnixSocket.replaceIfStale(configuration.controlSocketPath)
            controlListener = try UnixSocket.listen(at: configuration.controlSocketPath, mode: 0o660)
        } catch {
            // A host that does not start leaves no berth.pid behind.
            pidFile.release()
            throw RunDirectory.explainWriteFailure(error, in: configuration.runDirectory)
        }
        supervisor = Supervisor(loop: loop, configuration: configuration, token: token, scopedTokens: scopedTokens)

        let handler = ControlHandler(supervisor: supervisor, configuration: configuration)
        // A few operators and scripts with small requests; the timeouts keep
        // their defaults (a POST /reload waiting for its answer is not idle).
        var controlLimits = LineServer.Limits()
        controlLimits.maxConnections = 256
        // Clients of a group allowed to reach the sockets (docs/operating.md)
        // hold no token for the control socket: they may not fill it.
        controlLimits.reservedForOwner = 16
        controlLimits.maxRequestBytes = 64 << 10
        control = LineServer(loop: loop, listener: controlListener, handler: handler, limits: controlLimits)
        // Once per reload that runs, however many asked for it meanwhile.
        supervisor.onReloadStart = { reasons in
            Log.info("reloading (\(reasons))")
            SystemdNotifier.reloading()
        }
        supervisor.onReloadDone = { report in
            Log.write(report.succeeded ? .info : .error, "reload done: \(report.summary)"
                      + report.failed.map { "; " + report.failureText($0) }.joined(), nil)
            SystemdNotifier.ready()
        }
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
            _ = runLoop()
            Log.info("stopped")
            return 1
        }
        let status: Int32 = runLoop() ? 0 : 1
        Log.info("stopped")
        return status
    }

    /// False if the loop itself failed (epoll_wait), which ends the host.
    private func runLoop() -> Bool {
        do {
            try loop.run()
            return true
        } catch {
            Log.error("\(error); stopping the event loop")
            return false
        }
    }

    private func announceReady(_ report: ReloadReport) {
        let serving = supervisor.slots.filter { $0.state == .running }.compactMap(\.name)
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
            self.pidFile.release()
            self.loop.stop()
        }
    }
}
