import BerthPOSIX
import BerthWire
import CBerth
import Glibc

/// The life of a worker process, in order: load the plugin, report to the
/// host, receive the listening socket, serve until SIGTERM, drain, exit.
///
/// File descriptors inherited from the host (see Supervisor's WorkerSpawner):
///   3  channel to the host (SOCK_SEQPACKET)
///   4  the plugin library (a private in-memory copy)
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

        let plugin: LoadedPlugin
        do {
            plugin = try PluginLoader.load(libraryPath: "/proc/self/fd/\(library.rawValue)", file: options.file)
        } catch {
            fail("\(error)")
        }
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
            + plugin.routes.map { ("route", "\($0.method) \($0.pattern)\($0.isPublic ? " public" : "")") }))

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
        if let seconds = message["request-timeout"].flatMap(Double.init) { limits.requestTimeout = seconds }
        if let count = message["max-connections"].flatMap(Int.init) { limits.maxConnections = count }
        limits.fitMaxConnections(toOpenFileLimit: OpenFileLimit.raiseToHardLimit(), plugin: plugin.name)
        serve(plugin, listener: listener, token: AuthToken(bytes: Array(tokenText.utf8)), limits: limits,
              signals: signals, options: options)
    }

    private static func serve(_ plugin: LoadedPlugin, listener: FileDescriptor, token: AuthToken,
                              limits: LineServer.Limits, signals: SignalChannel, options: Options) -> Never {
        do {
            let loop = try EventLoop()
            let stats = try SharedStats(mapping: statsBlock)
            let handler = try PluginRequestHandler(plugin: plugin, token: token, stats: stats)
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
                if (try? UnixSocket.receiveMessage(channel)) == nil { drain() }
            }
            loop.run()
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
