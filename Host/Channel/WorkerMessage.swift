import BerthWire

/// What a worker tells the host (see ChannelProtocol for the order).
/// Adding a message: a case here, and its lines in WorkerMessage+Codec.
public enum WorkerMessage: Equatable {
    /// The plugin's library loaded and its descriptor checked out; it calls
    /// itself `name`. The worker waits for `initialize` before calling init,
    /// so the host can refuse a name another file holds first.
    case named(String)
    /// The plugin loaded and its init succeeded.
    case loaded(PluginReport)
    /// The plugin could not load, or init failed; the worker exits next.
    case failed(reason: String)
    /// The watchdog answered 504 for a handler that ran past its limit and
    /// is ending the worker.
    case timeout(route: String, limitMilliseconds: UInt32)
    /// The tokens of the last `tokens` message are in force.
    case tokensApplied

    /// The message's name, for logs and errors.
    public var kind: String {
        switch self {
        case .named: return "named"
        case .loaded: return "loaded"
        case .failed: return "failed"
        case .timeout: return "timeout"
        case .tokensApplied: return "tokens-applied"
        }
    }
}

/// A loaded plugin as its worker describes it.
public struct PluginReport: Equatable {
    public var name: String
    public var version: String
    /// "major.minor" of the ABI it was built for.
    public var abi: String
    public var routes: [ChannelRoute]

    public init(name: String, version: String, abi: String, routes: [ChannelRoute]) {
        self.name = name
        self.version = version
        self.abi = abi
        self.routes = routes
    }
}

/// One route of a loaded plugin.
public struct ChannelRoute: Equatable {
    public var method: HTTPMethod
    /// As the plugin declares it ("/hello/{name}").
    public var pattern: String
    public var isPublic: Bool
    /// The token scope it needs; nil: any valid token.
    public var scope: String?

    public init(method: HTTPMethod, pattern: String, isPublic: Bool, scope: String?) {
        self.method = method
        self.pattern = pattern
        self.isPublic = isPublic
        self.scope = scope
    }

    /// "GET /slow": how settings (route_timeouts) and messages name it.
    public var label: String { "\(method) \(pattern)" }
}
