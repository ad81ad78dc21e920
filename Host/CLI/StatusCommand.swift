import BerthJSON
import BerthPOSIX
import BerthWire
import Glibc

/// `berth status`: the control socket's GET /status as a table.
enum StatusCommand {
    static func main(_ raw: [String]) -> Int32 {
        let arguments: Arguments
        do {
            arguments = try Arguments(raw, valued: ["run-dir"], flags: ["json"])
        } catch {
            usageError("\(error)", help: Help.status)
        }
        let runDirectory = RunDirectoryChoice(option: arguments.options["run-dir"])
        let token = CallCommand.readToken(runDirectory)
        let line = WireClient.requestLine(method: "GET", path: "/status", token: token.value, data: nil)
        return CallCommand.send(line, to: "\(runDirectory.path)/berth.sock", runDirectory: runDirectory, service: nil,
                                token: token, timeout: 10) { response in
            if arguments.flags.contains("json") {
                print(String(decoding: response, as: UTF8.self))
            } else {
                print(table(JSONValue.parse(response)?["data"]))
            }
        }
    }

    /// Marks STATE of a plugin whose last reload failed.
    static let reloadFailedMark = "*"

    static func table(_ status: JSONValue?) -> String {
        guard let host = status?["host"], let plugins = status?["plugins"]?.arrayValue else { return "no status" }
        var lines = ["berth pid \(text(host["pid"])), started \(text(host["started_at"])), plugins from \(text(host["plugins_dir"]))"]
        let header = ["NAME", "VERSION", "STATE", "PID", "REQUESTS", "ERRORS", "MEAN ms", "P99 ms", "RESTARTS", "FILE"]
        var rows = [header]
        var problems: [String] = []
        for plugin in plugins {
            var row = ["name", "version", "state", "pid", "requests", "errors", "mean_ms", "p99_ms", "restarts", "file"].map { text(plugin[$0]) }
            if let error = plugin["error"]?.stringValue { problems.append("\(text(plugin["file"])): \(error)") }
            // A reload that failed leaves the plugin running its old version,
            // which SIGHUP tells no one: marked until a later reload succeeds.
            if let reloadError = plugin["last_reload_error"]?.stringValue {
                if plugin["state"]?.stringValue == "running" {
                    row[2] += reloadFailedMark
                    problems.append("\(text(plugin["file"])): \(reloadFailedMark) last reload failed (version \(text(plugin["version"])) keeps serving until a reload succeeds): \(reloadError)")
                } else {
                    problems.append("\(text(plugin["file"])): last reload failed: \(reloadError)")
                }
            }
            rows.append(row)
            if plugin["error"] == .null, let exit = plugin["last_exit"]?.stringValue { problems.append("\(text(plugin["name"])): last worker \(exit)") }
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  "))
        }
        for settings in host["unmatched_settings"]?.arrayValue ?? [] {
            problems.append("\(text(settings)): settings file not read: no plugin file of its name (<file>.json goes beside <file>.so)")
        }
        return (lines + problems).joined(separator: "\n")
    }

    private static func text(_ value: JSONValue?) -> String {
        switch value {
        case .none, .some(.null): return "-"
        case .some(.string(let s)): return s
        case .some(let other): return other.serialized()
        }
    }
}
