import BerthJSON
import BerthPOSIX
import BerthSupport
import BerthWire

/// One plugin file and everything the host knows about it across
/// generations and restarts.
public final class PluginSlot {
    public struct RouteInfo {
        public let method: String
        public let pattern: String
        public let isPublic: Bool
        /// The token scope the route needs; nil: any valid token.
        public let scope: String?
    }

    public let file: String
    /// The socket name this file's plugin owns, once it has loaded.
    public internal(set) var name: String?
    var current: Generation?
    /// A new generation loading during a reload; it replaces `current` once
    /// every instance serves.
    var candidate: Generation?
    /// Replaced generations whose workers are still finishing.
    var retiring: [Generation] = []
    var removed = false
    var stopping = false

    var restarts = 0
    var lastExit: String?
    /// The setting whose limit the last stopped worker broke.
    var lastLimit: String?
    /// Requests answered 504 because their handler ran too long.
    var timeouts = 0
    var lastReloadError: String?
    var crashTimes: [Double] = []
    var policy = RestartPolicy()
    var restartTimers: [EventLoop.TimerID: Int] = [:]
    /// Counts of workers that have exited.
    var history = SharedStats.Snapshot()
    var generationsMade = 0
    /// Answers 503 on the socket while no worker can.
    var unavailable: LineServer?

    init(file: String) {
        self.file = file
    }

    func nextGenerationNumber() -> Int {
        generationsMade += 1
        return generationsMade
    }

    var allGenerations: [Generation] { [current, candidate].compactMap { $0 } + retiring }
    var allWorkers: [WorkerHandle] { allGenerations.flatMap(\.workers) }

    public var state: String {
        if stopping { return "stopping" }
        if removed { return "removed" }
        guard let current else { return "starting" }
        switch current.state {
        case .loading: return "starting"
        case .failed: return "failed"
        case .retiring: return "stopping"
        case .serving: return current.allWorkersServing ? (candidate == nil ? "running" : "reloading") : "restarting"
        }
    }

    public var error: String? { current?.state == .failed ? current?.failure : nil }

    var totals: SharedStats.Snapshot {
        var totals = history
        for worker in allWorkers { totals.add(worker.stats.snapshot()) }
        return totals
    }

    var statusDocument: JSONValue {
        let totals = self.totals
        let serving = current?.workers ?? []
        func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            ("name", optional(name ?? current?.name)),
            ("version", optional(current?.version)),
            ("file", .string(file)),
            ("state", .string(state)),
            ("generation", current.map { .number(Double($0.number)) } ?? .null),
            ("sha256", optional(current?.sha256)),
            ("loaded_at", current.map { .string(Clock.iso8601($0.createdAt)) } ?? .null),
            ("instances", .number(Double(current?.settings.instances ?? 0))),
            ("pid", serving.first.map { .number(Double($0.pid)) } ?? .null),
            ("pids", .array(serving.map { .number(Double($0.pid)) })),
            ("started_at", serving.first.map { .string(Clock.iso8601($0.startedAt)) } ?? .null),
            ("requests", .number(Double(totals.requests))),
            ("errors", .number(Double(totals.errors))),
            ("mean_ms", .number((totals.meanMilliseconds * 1000).rounded() / 1000)),
            ("p99_ms", .number((totals.p99Milliseconds * 1000).rounded() / 1000)),
            ("restarts", .number(Double(restarts))),
            ("last_exit", optional(lastExit)),
            ("last_limit", optional(lastLimit)),
            ("timeouts", .number(Double(timeouts))),
            ("abi", optional(current?.abi)),
            ("error", optional(error)),
            ("last_reload_error", optional(lastReloadError)),
        ])
    }

    var routesDocument: JSONValue {
        .object([
            ("plugin", .string(name ?? "")),
            ("routes", .array((current?.routes ?? []).map {
                .object([("method", .string($0.method)), ("pattern", .string($0.pattern)), ("public", .bool($0.isPublic)),
                         ("scope", $0.scope.map(JSONValue.string) ?? .null)])
            })),
        ])
    }
}
