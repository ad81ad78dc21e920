import BerthJSON
import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

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
    /// Tells slots apart in a reload, even two with the same file (one
    /// removed and draining, one added again).
    let serial: Int
    /// Its generations, workers and counters, and every decision about them.
    var machine: SlotMachine
    /// The loaded generations the machine holds, by number.
    var generations: [Int: Generation] = [:]
    /// Its workers not yet reaped, by pid.
    var workers: [pid_t: WorkerHandle] = [:]
    /// Pending restarts: timer and instance.
    var restartTimers: [EventLoop.TimerID: Int] = [:]
    /// Each worker's pending load or drain deadline (Supervisor+Deadlines).
    var deadlines: [pid_t: EventLoop.TimerID] = [:]
    /// Counts of workers that have exited.
    var history = SharedStats.Snapshot()
    /// Answers 503 on the socket while no worker can.
    var unavailable: LineServer?

    init(file: String, serial: Int, configuration: Configuration) {
        self.file = file
        self.serial = serial
        machine = SlotMachine(file: file, configuration: configuration)
    }

    /// The socket name this file's plugin owns, once it has loaded.
    public var name: String? { machine.name }
    public var state: SlotState { machine.state }
    public var error: String? { machine.error }
    /// Its file is gone (its workers may still drain).
    var removed: Bool { machine.lifecycle == .removed }

    /// The generation that serves, or tries to.
    var current: Generation? { machine.current.flatMap { generations[$0.number] } }

    var totals: SharedStats.Snapshot {
        var totals = history
        for worker in workers.values { totals.add(worker.stats.snapshot()) }
        return totals
    }

    var statusDocument: JSONValue {
        let totals = self.totals
        let current = self.current
        let serving = (machine.current?.workers ?? []).compactMap { workers[$0.pid] }
        func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            // The name its plugin declared, even if it never served.
            ("name", optional(name ?? machine.declaredName)),
            ("version", optional(machine.current?.version)),
            ("file", .string(file)),
            ("state", .string(state.rawValue)),
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
            ("restarts", .number(Double(machine.restarts))),
            ("last_exit", optional(machine.lastExit)),
            ("last_limit", optional(machine.lastLimit)),
            ("timeouts", .number(Double(machine.timeouts))),
            ("abi", optional(current?.abi)),
            ("error", optional(error)),
            ("last_reload_error", optional(machine.lastReloadError)),
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
