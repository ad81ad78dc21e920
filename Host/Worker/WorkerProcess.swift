import BerthAuth
import BerthPOSIX
import BerthSupport
import BerthWire
import CBerth
import Glibc

/// The life of a worker process, in order: load the plugin, report to the
/// host, receive the listening socket, serve until SIGTERM, drain, exit.
///
/// File descriptors inherited from the host (see Supervisor's WorkerSpawner):
///   3  channel to the host (SOCK_SEQPACKET)
///   4  the plugin library (a private in-memory copy; closed once loaded)
///   5  the shared stats block
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

    static let channel = FileDescriptor(rawValue: 3)
    static let library = FileDescriptor(rawValue: 4)
    static let statsBlock = FileDescriptor(rawValue: 5)

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

        // The host's first message carries the plugin's config for init.
        guard let setup = (try? UnixSocket.receiveMessage(channel)).flatMap({ $0 }).map({ ChannelMessage(decoding: $0.bytes) }),
              setup.kind == "setup" else {
            exit(0)
        }
        let config = setup["config"] ?? "{}"
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
            plugin = try PluginLoader.load(libraryPath: "/proc/self/fd/\(library.rawValue)", file: options.file)
        } catch {
            fail("\(error)")
        }
        // Mapped now; the descriptor is not needed any more.
        library.close()
        HostAPI.pluginName = plugin.name
        CurrentProcess.setName("berth:\(plugin.name)")
        if let initialize = plugin.descriptor.pointee.`init` {
            let result = config.withCString { initialize(HostAPI.table, $0) }
            if result != 0 {
                let said = HostAPI.lastLoggedError.map { ": \($0)" } ?? " (the plugin logged no reason)"
                fail("\(options.file): plugin \(plugin.name) init failed with code \(result)\(said)")
            }
        }
        send(ChannelMessage("loaded", [("name", plugin.name), ("version", plugin.version), ("abi", plugin.abi)]
            + plugin.routes.map { ("route", "\($0.method) \($0.pattern)\($0.isPublic ? " public" : "")\($0.scope.map { " scope=\($0)" } ?? "")") }))

        guard let (reply, listener) = (try? UnixSocket.receiveMessage(channel)).flatMap({ $0 }) else {
            shutdownAndExit(plugin, code: 0)
        }
        let message = ChannelMessage(decoding: reply)
        guard message.kind == "serve", let listener, let tokenText = message["token"] else {
            Log.error("not serving: \(message["reason"] ?? "the host sent \(message.kind)")", plugin: plugin.name)
            shutdownAndExit(plugin, code: 0)
        }
        var limits = LineServer.Limits()
        if let bytes = message["max-request-bytes"].flatMap(Int.init) { limits.maxRequestBytes = bytes }
        if let seconds = message["idle-timeout"].flatMap(Double.init) { limits.idleTimeout = seconds }
        if let seconds = message["read-timeout"].flatMap(Double.init) { limits.readTimeout = seconds }
        if let count = message["max-connections"].flatMap(Int.init) { limits.maxConnections = count }
        limits.fitMaxConnections(toOpenFileLimit: OpenFileLimit.raiseToHardLimit(), plugin: plugin.name)
        let admin = AuthToken(bytes: Array(tokenText.utf8))
        let allowedUIDs = message["allowed-uids"].map { $0.split(separator: ",").compactMap { UInt32($0) } }
        serve(plugin, listener: listener, admin: admin, tokens: tokenTable(message, admin: admin, plugin: plugin),
              allowedUIDs: allowedUIDs, limits: limits, signals: signals, options: options, message: message)
    }

    /// The admin token and the scoped tokens the host sent (in "serve", and
    /// in "tokens" after a reload changed the tokens file).
    private static func tokenTable(_ message: ChannelMessage, admin: AuthToken, plugin: LoadedPlugin) -> TokenTable {
        TokenTable(admin: admin, scoped: message.all("scoped").compactMap(ScopedToken.init(channelText:)), bit: plugin.scopeBit)
    }

    private static func serve(_ plugin: LoadedPlugin, listener: FileDescriptor, admin: AuthToken, tokens: TokenTable,
                              allowedUIDs: [UInt32]?, limits: LineServer.Limits, signals: SignalChannel,
                              options: Options, message: ChannelMessage) -> Never {
        do {
            let loop = try EventLoop()
            let stats = try SharedStats(mapping: statsBlock)
            let handler = try PluginRequestHandler(plugin: plugin, tokens: tokens, allowedUIDs: allowedUIDs, stats: stats)
            try Watchdog.prepare(plugin, serve: message, channel: channel)
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
            try loop.register(channel, .readable) { _ in
                guard let (bytes, _) = (try? UnixSocket.receiveMessage(channel)).flatMap({ $0 }) else { return drain() }
                let message = ChannelMessage(decoding: bytes)
                guard message.kind == "tokens" else { return }
                // Applied before the next request is read; the host ends
                // its reload only once every worker has said so.
                handler.tokens = tokenTable(message, admin: admin, plugin: plugin)
                try? UnixSocket.sendMessage(channel, ChannelMessage("tokens-applied").encoded())
            }
            try loop.run()
        } catch {
            Log.error("worker cannot serve: \(error)", plugin: plugin.name)
            shutdownAndExit(plugin, code: 71)
        }
        shutdownAndExit(plugin, code: 0)
    }

    private static func send(_ message: ChannelMessage) {
        do {
            try UnixSocket.sendMessage(channel, message.encoded())
        } catch {
            Log.error("cannot reach the host: \(error)")
            exit(72)
        }
    }

    /// Reports a load failure to the host and exits.
    private static func fail(_ reason: String) -> Never {
        try? UnixSocket.sendMessage(channel, ChannelMessage("failed", [("reason", reason)]).encoded())
        exit(3)
    }

    private static func shutdownAndExit(_ plugin: LoadedPlugin, code: Int32) -> Never {
        plugin.descriptor.pointee.shutdown?()
        exit(code)
    }
}
