/// How the host runs: where plugins and sockets live, and its limits.
public struct Configuration {
    public var pluginsDirectory = "plugins.d"
    public var runDirectory = "run"
    /// Requests above this many bytes get 413 and the connection is closed.
    public var maxRequestBytes = 1 << 20
    /// A connection with no traffic either way for this long is closed.
    public var idleTimeout = 60.0
    /// A request must arrive whole within this many seconds of its first
    /// byte, or it gets 408 and the connection is closed.
    public var readTimeout = 10.0
    /// Connections one worker serves at once; past it, 503.
    public var maxConnections = 10_000
    /// MiB of unfinished requests one worker's connections may hold in
    /// all; nil: 64, or 4 x (max request bytes + 64 KiB) if more.
    public var maxBufferedInputMB: Int?
    /// How long a stopping worker may take to finish in-flight requests;
    /// the host kills it 2 s after that (Supervisor+Deadlines).
    public var drainSeconds = 10.0
    /// How long a worker may take to load its plugin (library and init)
    /// before it is killed and the plugin fails, unless its settings say
    /// otherwise.
    public var initTimeoutSeconds = 30.0
    /// How long a handler may run before its client gets 504 and its worker
    /// is replaced, unless the plugin's settings or route say otherwise
    /// (0: no limit).
    public var requestTimeoutSeconds = 30.0
    /// Worker processes per plugin unless its settings say otherwise.
    public var instances = 1
    /// A plugin whose workers crash more than `crashLimit` times within
    /// `crashWindowSeconds` is left down (state failed) until its file
    /// changes or `berth restart NAME`.
    public var crashLimit = 5
    public var crashWindowSeconds = 60.0
    /// The berth executable workers are started from.
    public var executable = ""
    public var logFormat = "text"
    public var logLevel = "info"
    /// The tokens file (`--tokens`): scoped tokens besides the admin token.
    public var tokensFile: String?
    /// Scopes each plugin's service identity carries when it calls other
    /// plugins (the host settings file's "services"; docs/calls.md).
    /// A plugin not named here carries none: only routes without a scope.
    public var serviceScopes: [String: [String]] = [:]
    /// Whether a request without a traceparent starts a new trace
    /// (the host settings file's "tracing"; docs/calls.md#tracing).
    public var tracing = false

    public init() {}

    public func socketPath(for name: String) -> String { "\(runDirectory)/\(name).sock" }
    public var controlSocketPath: String { "\(runDirectory)/berth.sock" }
    public var pidFilePath: String { "\(runDirectory)/berth.pid" }
}
