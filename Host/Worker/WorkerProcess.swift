import BerthAuth
import BerthChannel
import BerthPOSIX
import BerthSupport
import BerthWire
import CBerth
import Glibc

/// The life of a worker process, in order: load the plugin, report its name
/// and wait for the host to grant it, run init, report to the host, receive
/// the listening socket, serve until SIGTERM, drain, exit.
/// It inherits InheritedDescriptors.inWorker; BerthChannel's
/// ChannelProtocol describes what it and the host say to each other.
public enum WorkerProcess {
    public struct Options {
        public var file: String
        public var hostPID: pid_t
        public var drainSeconds: Double = 10
        public init(file: String, hostPID: pid_t) {
            self.file = file
            self.hostPID = hostPID
        }
    }

    public static func run(_ options: Options) -> Never {
        // Die with the host, even if it is SIGKILLed; and if it already died
        // before this line, do not linger as an orphan.
        CurrentProcess.dieWithParent()
        if getppid() != options.hostPID { exit(70) }
        let signals: SignalChannel
        do {
            signals = try SignalChannel([SIGTERM, SIGINT, SIGHUP])
        } catch {
            fail("\(error)")
        }
        SignalChannel.ignoreBrokenPipe()
        do {
            try inherited.keepFromPrograms()
        } catch {
            fail("\(error)")
        }

        // The host's first message carries the plugin's config for init.
        guard case (.setup(let setup), _)? = receiveFromHost(options) else { exit(0) }
        do {
            try Confinement.apply(setup)
        } catch {
            fail("\(options.file): \(error)")
        }
        // A change of user clears the parent-death signal: ask again, and
        // make sure the host did not die in between.
        CurrentProcess.dieWithParent()
        if getppid() != options.hostPID { exit(70) }

        let plugin: LoadedPlugin
        do {
            plugin = try PluginLoader.load(libraryPath: "/proc/self/fd/\(inherited.library.rawValue)", file: options.file)
        } catch {
            fail("\(error)")
        }
        // Mapped now; the descriptor is not needed any more.
        inherited.library.close()
        HostAPI.pluginName = plugin.name
        HostAPI.offer(toMinor: plugin.descriptor.pointee.abi_minor)
        CurrentProcess.setName("berth:\(plugin.name)")
        // ps -ef and ps aux show the command line, not the name: the same
        // name there, with the file kept so a worker's file stays visible
        // (two generations of one plugin run side by side in a reload).
        CurrentProcess.setCommandLine(["berth:\(plugin.name)", "worker", "--file", options.file])
        // The host decides whether this file may use the name before init
        // runs: a refused duplicate's init must not run at all.
        awaitNameGranted(plugin, options)
        if let initialize = plugin.descriptor.pointee.`init` {
            // The config's bytes exactly as the host sent them, NUL-terminated for C.
            let result = (setup.config + [0]).withUnsafeBufferPointer {
                $0.withMemoryRebound(to: CChar.self) { initialize(HostAPI.table, $0.baseAddress) }
            }
            if result != 0 {
                let said = HostAPI.lastLoggedError.map { ": \($0)" } ?? " (the plugin logged no reason)"
                fail("\(options.file): plugin \(plugin.name) init failed with code \(result)\(said)")
            }
        }
        report(plugin, options)

        guard let (reply, listener) = receiveFromHost(options) else {
            shutdownAndExit(plugin, code: 0)
        }
        guard case .serve(let settings) = reply, let listener else {
            listener?.close()
            Log.error("not serving: the host sent \(reply.kind)\(listener == nil ? " without a socket" : "") instead of serve", plugin: plugin.name)
            shutdownAndExit(plugin, code: 0)
        }
        var limits = LineServer.Limits()
        limits.maxRequestBytes = settings.clientLimits.maxRequestBytes
        limits.idleTimeout = settings.clientLimits.idleTimeout
        limits.readTimeout = settings.clientLimits.readTimeout
        limits.maxConnections = settings.clientLimits.maxConnections
        limits.maxBufferedInputMB = settings.clientLimits.maxBufferedInputMB
        limits.fitMaxConnections(toOpenFileLimit: OpenFileLimit.raiseToHardLimit(), plugin: plugin.name)
        let admin = AuthToken(bytes: settings.adminToken)
        serve(plugin, listener: listener, admin: admin, tokens: tokenTable(settings.scopedTokens, admin: admin, plugin: plugin),
              limits: limits, signals: signals, options: options, settings: settings)
    }

    /// The admin token and the scoped tokens the host sent (in serve, and
    /// in tokens after a reload changed the tokens file).
    private static func tokenTable(_ scoped: [ScopedToken], admin: AuthToken, plugin: LoadedPlugin) -> TokenTable {
        TokenTable(admin: admin, scoped: scoped, bit: plugin.scopeBit)
    }

    private static func serve(_ plugin: LoadedPlugin, listener: FileDescriptor, admin: AuthToken, tokens: TokenTable,
                              limits: LineServer.Limits, signals: SignalChannel, options: Options,
                              settings: ServeSettings) -> Never {
        do {
            let loop = try EventLoop()
            LogThrottle.loop = loop
            let stats = try SharedStats(mapping: inherited.stats)
            HostAPI.loop = loop
            HostAPI.stats = stats
            let handler = PluginRequestHandler(plugin: plugin, tokens: tokens, allowedUIDs: settings.allowedUIDs, stats: stats)
            try Watchdog.prepare(plugin, timeouts: settings.timeouts, channel: inherited.channel)
            let server = LineServer(loop: loop, listener: listener, handler: handler, limits: limits, name: plugin.name)
            try server.start()
            var draining = false
            func drain() {
                guard !draining else { return }
                draining = true
                listener.close()
                loop.schedule(afterSeconds: options.drainSeconds) {
                    Log.warn("drain took longer than \(options.drainSeconds) s; closing \(server.connectionCount) connections", plugin: plugin.name)
                    server.closeAll()
                }
                server.drain { loop.stop() }
            }
            try loop.register(signals.fd, .readable) { _ in
                if signals.drain().contains(where: { $0 == SIGTERM || $0 == SIGINT }) { drain() }
            }
            // The host closing its end means it is gone: stop at once.
            try loop.register(channel.fd, .readable) { _ in
                // Only what is ready: a message still arriving waits for the
                // next readiness, and requests go on meanwhile.
                let received: WorkerChannelEnd.Received?
                do {
                    received = try channel.receive(waiting: false)
                } catch {
                    Log.error("the host's channel broke: \(error); stopping", plugin: plugin.name)
                    return drain()
                }
                switch received {
                case nil:
                    return
                case .closed?:
                    drain()
                case .message(.tokens(let scoped), let passed)?:
                    passed?.close()
                    // Applied before the next request is read; the host ends
                    // its reload only once every worker has said so.
                    handler.tokens = tokenTable(scoped, admin: admin, plugin: plugin)
                    try? channel.send(.tokensApplied)
                case .message(let other, let passed)?:
                    passed?.close()
                    Log.warn("ignoring an unexpected \(other.kind) message from the host", plugin: plugin.name)
                }
            }
            try loop.run()
        } catch {
            Log.error("worker cannot serve: \(error)", plugin: plugin.name)
            shutdownAndExit(plugin, code: 71)
        }
        shutdownAndExit(plugin, code: 0)
    }

    private static func shutdownAndExit(_ plugin: LoadedPlugin, code: Int32) -> Never {
        plugin.descriptor.pointee.shutdown?()
        exit(code)
    }
}
