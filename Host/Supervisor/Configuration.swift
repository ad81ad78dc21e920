/// How the host runs: where plugins and sockets live, and its limits.
public struct Configuration {
    public var pluginsDirectory = "plugins.d"
    public var runDirectory = "run"
    /// Requests above this many bytes get 413 and the connection is closed.
    public var maxRequestBytes = 1 << 20
    /// How long a stopping worker may take to finish in-flight requests.
    public var drainSeconds = 10.0
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

    public init() {}

    public func socketPath(for name: String) -> String { "\(runDirectory)/\(name).sock" }
    public var controlSocketPath: String { "\(runDirectory)/berth.sock" }
    public var pidFilePath: String { "\(runDirectory)/berth.pid" }
}
