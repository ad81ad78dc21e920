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
        let runDirectory = RunDirectoryChoice(option: arguments.options["run-dir"])
        let token = readToken(runDirectory)
        let line = WireClient.requestLine(method: arguments.positional[1], path: arguments.positional[2],
                                          token: token.value, data: data, id: arguments.options["id"])
        let timeout = (try? arguments.number("timeout")) ?? nil
        return send(line, to: "\(runDirectory.path)/\(service).sock", runDirectory: runDirectory, service: service,
                    token: token, timeout: timeout ?? 30) { response in
            print(String(decoding: response, as: UTF8.self))
        }
    }

    /// The admin token, or why it could not be read (told only if the
    /// answer is 401: public routes need none).
    struct TokenReading {
        let value: String?
        let problem: String?
    }

    static func readToken(_ runDirectory: RunDirectoryChoice) -> TokenReading {
        let path = AuthToken.fileName(inRunDirectory: runDirectory.path)
        do {
            return TokenReading(value: try AuthToken.load(path).string, problem: nil)
        } catch {
            return TokenReading(value: nil, problem: "no token sent: cannot read the admin token \(path) (\(error)) in the \(runDirectory)")
        }
    }

    /// Sends a request and shows the answer; the exit code says how it went.
    /// `service`: the plugin called, or nil for the control socket.
    static func send(_ line: [UInt8], to socket: String, runDirectory: RunDirectoryChoice, service: String?,
                     token: TokenReading, timeout: Double, show: ([UInt8]) -> Void) -> Int32 {
        let client = WireClient(socketPath: socket, timeoutSeconds: timeout)
        do {
            let response = try client.send(line)
            show(response)
            let status = JSONValue.parse(response)?["status"]?.numberValue ?? 500
            if status == 401, let problem = token.problem { FileDescriptor.standardError.writeLine("berth: \(problem)") }
            return status >= 400 ? 1 : 0
        } catch let error as Errno where error.code == ENOENT || error.code == ECONNREFUSED {
            FileDescriptor.standardError.writeLine("berth: cannot reach \(socket): \(error)\n\(unreachable(runDirectory, service: service))")
            return 2
        } catch {
            FileDescriptor.standardError.writeLine("berth: \(error) (the \(runDirectory))")
            return 2
        }
    }

    /// Why a socket did not answer, as far as the run directory tells.
    private static func unreachable(_ runDirectory: RunDirectoryChoice, service: String?) -> String {
        var status = stat()
        guard stat(runDirectory.path, &status) == 0 else {
            return "Tried the \(runDirectory); it does not exist: \(runDirectory.advice)."
        }
        if let service, access("\(runDirectory.path)/berth.sock", F_OK) == 0 {
            let option = runDirectory.origin == .option ? " --run-dir \(runDirectory.path)" : ""
            return "No service named \(service) in the \(runDirectory); `berth status\(option)` lists the services it serves."
        }
        return "No berth serves the \(runDirectory): \(runDirectory.advice)."
    }
}
