import BerthJSON
import BerthWire

/// What a reload changed, for the log, `berth reload` and POST /reload.
public struct ReloadReport {
    public var added: [String] = []
    public var updated: [String] = []
    public var removed: [String] = []
    public var unchanged: [String] = []
    /// Failed before and unchanged: loaded again, and serving now.
    public var retried: [String] = []
    /// File and reason.
    public var failed: [(String, String)] = []

    public var succeeded: Bool { failed.isEmpty }

    public var summary: String {
        "\(added.count) added, \(updated.count) updated, \(removed.count) removed, \(failed.count) failed, \(unchanged.count) unchanged\(retried.isEmpty ? "" : ", \(retried.count) retried")"
    }

    public var document: JSONValue {
        func list(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
        return .object([
            ("added", list(added)),
            ("updated", list(updated)),
            ("removed", list(removed)),
            ("failed", .array(failed.map { .object([("file", .string($0.0)), ("reason", .string($0.1))]) })),
            ("unchanged", list(unchanged)),
            ("retried", list(retried)),
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
    /// The host's start, not a reload: nothing is announced, and the tokens
    /// file just loaded is not read again.
    var isStart = false
    var done: (ReloadReport) -> Void
}
