import BerthPOSIX
import BerthWire

/// One plugin file and everything the host knows about it, across the
/// workers that serve it over time.
public final class PluginSlot {
    public enum State: String {
        /// A worker is loading the plugin.
        case starting
        case running
        /// The worker crashed; a new one starts after a backoff delay.
        case restarting
        /// The file could not be loaded; see `error`.
        case failed
        case stopping
        case stopped
    }

    public struct RouteInfo {
        public let method: String
        public let pattern: String
        public let isPublic: Bool
    }

    public let file: String
    public internal(set) var state: State = .starting
    public internal(set) var name: String?
    public internal(set) var version: String?
    public internal(set) var abi: String?
    public internal(set) var routes: [RouteInfo] = []
    public internal(set) var restarts = 0
    public internal(set) var lastExit: String?
    public internal(set) var error: String?

    var library: FileDescriptor?
    var worker: WorkerHandle?
    var policy = RestartPolicy()
    var restartTimer: EventLoop.TimerID?
    /// Counts of this plugin's earlier workers.
    var history = SharedStats.Snapshot()

    init(file: String) {
        self.file = file
    }

    /// Counts over every worker this plugin has had.
    var totals: SharedStats.Snapshot {
        var totals = history
        if let worker { totals.add(worker.stats.snapshot()) }
        return totals
    }

    var statusDocument: JSONValue {
        let totals = self.totals
        func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            ("name", optional(name)),
            ("version", optional(version)),
            ("file", .string(file)),
            ("state", .string(state.rawValue)),
            ("pid", worker.map { .number(Double($0.pid)) } ?? .null),
            ("started_at", worker.map { .string(Clock.iso8601($0.startedAt)) } ?? .null),
            ("requests", .number(Double(totals.requests))),
            ("errors", .number(Double(totals.errors))),
            ("mean_ms", .number((totals.meanMilliseconds * 1000).rounded() / 1000)),
            ("p99_ms", .number((totals.p99Milliseconds * 1000).rounded() / 1000)),
            ("restarts", .number(Double(restarts))),
            ("last_exit", optional(lastExit)),
            ("abi", optional(abi)),
            ("error", optional(error)),
        ])
    }

    var routesDocument: JSONValue {
        .object([
            ("plugin", .string(name ?? "")),
            ("routes", .array(routes.map {
                .object([("method", .string($0.method)), ("pattern", .string($0.pattern)), ("public", .bool($0.isPublic))])
            })),
        ])
    }
}
