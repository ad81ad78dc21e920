import BerthAuth
import BerthJSON
import BerthPOSIX
import BerthWire
import Glibc

/// `berth call SERVICE METHOD PATH [JSON-DATA]`.
enum CallCommand {
    static func main(_ raw: [String]) -> Int32 {
        let arguments: Arguments
        do {
            arguments = try Arguments(raw, valued: ["run-dir", "id", "timeout"], flags: [])
        } catch {
            usageError("\(error)", help: Help.call)
        }
        guard (3...4).contains(arguments.positional.count) else {
            usageError("call needs SERVICE METHOD PATH and optionally JSON-DATA", help: Help.call)
        }
        let service = arguments.positional[0]
        let data = arguments.positional.count == 4 ? arguments.positional[3] : nil
        if let data, JSONValue.parse(Array(data.utf8)) == nil {
            usageError("JSON-DATA is not valid JSON: \(data)", help: Help.call)
        }
        let runDirectory = arguments.options["run-dir"] ?? "run"
        let line = WireClient.requestLine(method: arguments.positional[1], path: arguments.positional[2],
                                          token: readToken(runDirectory), data: data, id: arguments.options["id"])
        let timeout = (try? arguments.number("timeout")) ?? nil
        return send(line, to: "\(runDirectory)/\(service).sock", timeout: timeout ?? 30) { response in
            print(String(decoding: response, as: UTF8.self))
        }
    }

    static func readToken(_ runDirectory: String) -> String? {
        try? AuthToken.load(AuthToken.fileName(inRunDirectory: runDirectory)).string
    }

    /// Sends a request and shows the answer; the exit code says how it went.
    static func send(_ line: [UInt8], to socket: String, timeout: Double, show: ([UInt8]) -> Void) -> Int32 {
        let client = WireClient(socketPath: socket, timeoutSeconds: timeout)
        do {
            let response = try client.send(line)
            show(response)
            let status = JSONValue.parse(response)?["status"]?.numberValue ?? 500
            return status >= 400 ? 1 : 0
        } catch let error as Errno where error.code == ENOENT || error.code == ECONNREFUSED {
            FileDescriptor.standardError.writeLine("berth: cannot reach \(socket): \(error)\n(is `berth serve` running with this --run-dir, and is the service name right? `berth status` lists them)")
            return 2
        } catch {
            FileDescriptor.standardError.writeLine("berth: \(error)")
            return 2
        }
    }
}
