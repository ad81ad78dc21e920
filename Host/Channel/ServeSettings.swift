import BerthAuth

/// Everything a worker needs to start serving, sent with its listening
/// socket once the host has accepted the plugin.
public struct ServeSettings: Equatable {
    /// The host's admin token, which every route admits.
    public var adminToken: [UInt8]
    public var clientLimits: ClientLimits
    public var timeouts: HandlerTimeouts
    public var scopedTokens: [ScopedToken]
    /// Only these uids may connect; nil: any the socket's mode lets in.
    public var allowedUIDs: [UInt32]?
    /// This plugin's service identity: the token its calls to other
    /// plugins carry (the host issues one per plugin; other workers know
    /// only its hash). Empty: none issued.
    public var identity: [UInt8]

    public init(adminToken: [UInt8], clientLimits: ClientLimits, timeouts: HandlerTimeouts, scopedTokens: [ScopedToken],
                allowedUIDs: [UInt32]?, identity: [UInt8] = []) {
        self.adminToken = adminToken
        self.clientLimits = clientLimits
        self.timeouts = timeouts
        self.scopedTokens = scopedTokens
        self.allowedUIDs = allowedUIDs
        self.identity = identity
    }
}

/// What the worker's server allows each client (the plugin's settings).
public struct ClientLimits: Equatable {
    public var maxRequestBytes: Int
    /// Seconds; 0: none.
    public var idleTimeout: Double
    /// Seconds; 0: none.
    public var readTimeout: Double
    public var maxConnections: Int
    /// MiB of unfinished input all connections may hold; nil: the default
    /// (LineServer.Limits.maxBufferedInputMB).
    public var maxBufferedInputMB: Int?

    public init(maxRequestBytes: Int, idleTimeout: Double, readTimeout: Double, maxConnections: Int,
                maxBufferedInputMB: Int? = nil) {
        self.maxRequestBytes = maxRequestBytes
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.maxConnections = maxConnections
        self.maxBufferedInputMB = maxBufferedInputMB
    }
}

/// The handler time limits from the plugin's settings, which the worker's
/// watchdog resolves per route (see Worker/Watchdog.swift). 0: no limit.
public struct HandlerTimeouts: Equatable {
    /// `request_timeout_seconds`, or the host's default, in milliseconds.
    public var requestMilliseconds: UInt32
    /// `route_timeouts`: a route's label ("GET /slow") to milliseconds.
    public var routeMilliseconds: [RouteTimeout]

    public init(requestMilliseconds: UInt32, routeMilliseconds: [RouteTimeout] = []) {
        self.requestMilliseconds = requestMilliseconds
        self.routeMilliseconds = routeMilliseconds
    }

    public struct RouteTimeout: Equatable {
        public var route: String
        public var milliseconds: UInt32

        public init(route: String, milliseconds: UInt32) {
            self.route = route
            self.milliseconds = milliseconds
        }
    }
}
