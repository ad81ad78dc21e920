import BerthJSON
import BerthWire

/// What a reload changed, for the log, `berth reload` and POST /reload.
public struct ReloadReport {
    public var added: [String] = []
    public var updated: [String] = []
    public var removed: [String] = []
    public var unchanged: [String] = []
    /// File and reason.
    public var failed: [(String, String)] = []

    public var succeeded: Bool { failed.isEmpty }

    public var summary: String {
        "\(added.count) added, \(updated.count) updated, \(removed.count) removed, \(failed.count) failed, \(unchanged.count) unchanged"
    }

    public var document: JSONValue {
        func list(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
        return .object([
            ("added", list(added)),
            ("updated", list(updated)),
            ("removed", list(removed)),
            ("failed", .array(failed.map { .object([("file", .string($0.0)), ("reason", .string($0.1))]) })),
            ("unchanged", list(unchanged)),
        ])
    }
}

/// A reload someone asked for: rescan the folder, or restart named
/// plugins only. Requests that arrive during a run wait and are merged into
/// one run after it.
struct ReloadRequest {
    /// nil: rescan the whole folder; otherwise only these files, restarted.
    var restartOnly: Set<String>?
    var reason: String
    var done: (ReloadReport) -> Void
}
/// One reload in progress: what it set out to do, judged when it settles.
final class LegacyReloadRun {
    enum Action { case add, update, remove }
    var actions: [(slot: PluginSlot, action: Action, generation: Generation?)] = []
    var report = ReloadReport()
    let requests: [ReloadRequest]

    init(_ requests: [ReloadRequest]) {
        self.requests = requests
    }

    /// Files to start afresh even if unchanged.
    var forced: Set<String> { requests.reduce(into: Set()) { $0.formUnion($1.restartOnly ?? []) } }

    /// Only restarts were asked for: leave every other file alone.
    var restartsOnly: Bool { requests.allSatisfy { $0.restartOnly != nil } }

    var reasons: String {
        var seen: [String] = []
        for request in requests where !seen.contains(request.reason) { seen.append(request.reason) }
        return seen.joined(separator: ", ")
    }
}
