import BerthPOSIX
import BerthSupport
import BerthWorker
import Glibc

/// `berth worker`: the worker process image the host spawns. Not for
/// people: it expects the descriptors WorkerProcess documents.
enum WorkerCommand {
    static func main(_ raw: [String]) -> Never {
        do {
            let arguments = try Arguments(raw, valued: ["file", "host-pid", "log-format", "log-level", "drain-seconds"], flags: [])
            guard let file = arguments.options["file"], let host = arguments.options["host-pid"].flatMap(Int32.init) else {
                throw Arguments.Problem(description: "the worker needs --file and --host-pid; it is started by `berth serve`")
            }
            Log.format = Log.Format(rawValue: arguments.options["log-format"] ?? "text") ?? .text
            Log.minimumLevel = Log.Level(rawValue: arguments.options["log-level"] ?? "info") ?? .info
            var options = WorkerProcess.Options(file: file, hostPID: host)
            if let drain = try arguments.number("drain-seconds") { options.drainSeconds = drain }
            WorkerProcess.run(options)
        } catch {
            FileDescriptor.standardError.writeLine("berth worker: \(error)")
            exit(64)
        }
    }
}
