import BerthJSON
import BerthPOSIX
import BerthSupervisor
import BerthWire
import Glibc

/// `berth reload` and `berth restart NAME`: ask the host over the control
/// socket, wait until it is done, print what changed.
enum ReloadCommand {
    static func main(_ raw: [String], restart: Bool) -> Int32 {
        let help = restart ? Help.restart : Help.reload
        let arguments: Arguments
        do {
            arguments = try Arguments(raw, valued: ["run-dir", "timeout"], flags: ["json"])
        } catch {
            usageError("\(error)", help: help)
        }
        guard arguments.positional.count == (restart ? 1 : 0) else {
            usageError(restart ? "restart needs the plugin's NAME or its FILE" : "reload takes no arguments", help: help)
        }
        let runDirectory = RunDirectoryChoice(option: arguments.options["run-dir"])
        // A file is named by its file name: the host matches that, and a
        // path's slashes cannot ride in one segment of the request's path.
        let target = arguments.positional.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? ""
        let path = restart ? "/plugins/\(target)/restart" : "/reload"
        let token = CallCommand.readToken(runDirectory)
        let line = WireClient.requestLine(method: "POST", path: path, token: token.value, data: nil)
        var failed = false
        let timeout = ((try? arguments.number("timeout")) ?? nil) ?? 120
        let code = CallCommand.send(line, to: "\(runDirectory.path)/berth.sock", runDirectory: runDirectory, service: nil,
                                    token: token, timeout: timeout) { response in
            let parsed = JSONValue.parse(response)
            if arguments.flags.contains("json") || parsed?["data"] == nil {
                print(String(decoding: response, as: UTF8.self))
            }
            guard let report = parsed?["data"] else { return }
            for key in ["added", "updated", "removed", "unchanged", "retried"] {
                for file in report[key]?.arrayValue ?? [] where !arguments.flags.contains("json") {
                    print("\(key) \(file.stringValue ?? "")")
                }
            }
            for failure in report["failed"]?.arrayValue ?? [] {
                failed = true
                if !arguments.flags.contains("json") {
                    print("failed \(failure["file"]?.stringValue ?? ""): \(failure["reason"]?.stringValue ?? "")\(consequence(failure))")
                }
            }
        }
        return code != 0 ? code : (failed ? 1 : 0)
    }

    /// A failed plugin file's line says whether an older version still
    /// answers, so "failed" is not read as "down" (the tokens file and the
    /// folder have no serving_version).
    private static func consequence(_ failure: JSONValue) -> String {
        switch failure["serving_version"] {
        case .none: return ""
        case .some(let version): return "; " + ReloadReport.consequence(servingVersion: version.stringValue)
        }
    }
}
