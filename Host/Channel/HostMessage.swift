import BerthAuth

/// What the host tells a worker (see ChannelProtocol for the order).
/// Adding a message: a case here, and its lines in HostMessage+Codec.
public enum HostMessage: Equatable {
    /// The first message: what the worker needs before it loads the plugin.
    case setup(WorkerSetup)
    /// The name the worker reported (`named`) is the plugin's to use: call
    /// init now.
    case initialize
    /// The plugin loaded and the host accepts it: serve on the listening
    /// socket passed with this message.
    case serve(ServeSettings)
    /// The tokens file changed: the scoped tokens now in force. The worker
    /// answers `tokensApplied`.
    case tokens([ScopedToken])
    /// The services this worker may call and where (ServiceDirectory).
    case services(ServiceDirectory)
    /// This worker is instance `number` (0-based) of `count`: its own
    /// listening socket (<run-dir>/<name>@<number>.sock) rides on this
    /// message; sent right after `serve`.
    case instance(number: Int, count: Int)

    /// The message's name, for logs and errors.
    public var kind: String {
        switch self {
        case .setup: return "setup"
        case .initialize: return "initialize"
        case .serve: return "serve"
        case .tokens: return "tokens"
        case .services: return "services"
        case .instance: return "instance"
        }
    }
}

/// What a worker applies to itself before loading the plugin (see the
/// worker's Confinement), and the config its init gets.
public struct WorkerSetup: Equatable {
    /// The plugin's `config`, byte for byte.
    public var config: [UInt8]
    /// RLIMIT_CPU; nil: none.
    public var cpuSeconds: Int?
    /// RLIMIT_NOFILE; nil: the host's.
    public var openFiles: Int?
    /// Who to become; nil: stay the host's user.
    public var credentials: WorkerCredentials?

    public init(config: [UInt8], cpuSeconds: Int? = nil, openFiles: Int? = nil, credentials: WorkerCredentials? = nil) {
        self.config = config
        self.cpuSeconds = cpuSeconds
        self.openFiles = openFiles
        self.credentials = credentials
    }
}

/// The user and group a worker runs as (a root host only).
public struct WorkerCredentials: Equatable {
    public var uid: UInt32?
    public var gid: UInt32?
    /// The settings' words for them ("user nobody group nogroup"), for
    /// messages; empty when unknown.
    public var settingsText: String

    public init(uid: UInt32?, gid: UInt32?, settingsText: String) {
        self.uid = uid
        self.gid = gid
        self.settingsText = settingsText
    }
}
