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

/// One reload in progress: what it set out to do, judged when it settles.
final class ReloadRun {
    enum Action { case add, update, remove }
    var actions: [(slot: PluginSlot, action: Action, generation: Generation?)] = []
    var report = ReloadReport()
    var completions: [(ReloadReport) -> Void]

    init(completions: [(ReloadReport) -> Void]) {
        self.completions = completions
    }
}
