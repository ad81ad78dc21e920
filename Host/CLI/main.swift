import BerthPOSIX
import BerthSupport
import BerthWorker
import Glibc

/// `berth <command>`: serve (the host), worker (started by the host, not
/// by hand), call, status, help.
let arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first ?? "help"
let rest = Array(arguments.dropFirst())

func usageError(_ message: String, help: String) -> Never {
    Log.source = "berth"
    FileDescriptor.standardError.writeLine("berth: \(message)\n\n\(help)")
    exit(64)
}

if rest.contains("--help") || rest.contains("-h"), let text = Help.topic(command) {
    print(text)
    exit(0)
}

switch command {
case "serve":
    exit(ServeCommand.main(rest))
case "worker":
    WorkerCommand.main(rest)
case "call":
    exit(CallCommand.main(rest))
case "status":
    exit(StatusCommand.main(rest))
case "reload":
    exit(ReloadCommand.main(rest, restart: false))
case "restart":
    exit(ReloadCommand.main(rest, restart: true))
case "new":
    exit(NewCommand.main(rest))
case "try":
    exit(TryCommand.main(rest))
case "help", "--help", "-h":
    if let topic = rest.first {
        guard let text = Help.topic(topic) else { usageError("no command named \(topic)", help: Help.overview) }
        print(text)
    } else {
        print(Help.overview)
    }
case "--version", "version":
    print(BerthVersion.line)
default:
    usageError("unknown command \(command)", help: Help.overview)
}

extension FileDescriptor {
    func writeLine(_ text: String) {
        try? writeAll(text + "\n")
    }
}
