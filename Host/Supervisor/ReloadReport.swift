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
    /// Failed plugin files and the version of each that still serves (nil:
    /// none), so an operator does not read "failed" as "down". Failures of
    /// the run itself (the tokens file, the folder) are not in it.
    public var servingAfterFailure: [String: String?] = [:]

    public var succeeded: Bool { failed.isEmpty }

    public var summary: String {
        "\(added.count) added, \(updated.count) updated, \(removed.count) removed, \(failed.count) failed, \(unchanged.count) unchanged\(retried.isEmpty ? "" : ", \(retried.count) retried")"
    }

    /// What a failed plugin file's line adds after its reason: whether the
    /// plugin still answers, and with which version.
    public func consequence(ofFailed file: String) -> String? {
        servingAfterFailure[file].map(Self.consequence(servingVersion:))
    }

    public static func consequence(servingVersion: String?) -> String {
        servingVersion.map { "version \($0) keeps serving" } ?? "not serving"
    }

    /// A failure as the log tells it (`berth reload` builds the same line
    /// from the JSON report).
    public func failureText(_ failure: (String, String)) -> String {
        "\(failure.0): \(failure.1)" + (consequence(ofFailed: failure.0).map { "; \($0)" } ?? "")
    }

    public var document: JSONValue {
        func list(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
        return .object([
            ("added", list(added)),
            ("updated", list(updated)),
            ("removed", list(removed)),
            ("failed", .array(failed.map { failure in
                var members: [(String, JSONValue)] = [("file", .string(failure.0)), ("reason", .string(failure.1))]
                // Only for plugin files: null when nothing of the plugin serves.
                if let serving = servingAfterFailure[failure.0] {
                    members.append(("serving_version", serving.map(JSONValue.string) ?? .null))
                }
                return .object(members)
            })),
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
