import BerthPOSIX
import BerthSupervisor
import BerthSupport
import Glibc

/// `berth serve`: the host's whole life as one explicit sequence.
///
///   1. block signals (before any thread exists) and read them from a signalfd
///   2. check (or create) the run directory and take the pid-file lock
///   3. load or create the token
///   4. open the control socket
///   5. start a worker per plugin; log "ready" (and tell systemd) when all
///      have settled
///   6. run the event loop: SIGHUP (or POST /reload, or a change seen by
///      --watch) reloads, SIGCHLD reaps, SIGTERM/SIGINT stop
///   7. shut down: control socket, plugin sockets, workers (drained), pid file
enum ServeCommand {
    static func main(_ raw: [String]) -> Int32 {
        StopWithParent.applyIfAsked()
        var configuration = Configuration()
        var watch = false
        var runDirectoryGroupWritable = false
        do {
            let arguments = try Arguments(raw, valued: ["plugins", "run-dir", "max-request-bytes", "drain-seconds", "init-timeout", "log-format", "log-level",
                                                        "instances", "crash-limit", "crash-window", "request-timeout", "tokens",
                                                        "idle-timeout", "read-timeout", "max-connections", "max-buffered-input-mb"], flags: ["watch", "run-dir-group-writable"])
            watch = arguments.flags.contains("watch")
            runDirectoryGroupWritable = arguments.flags.contains("run-dir-group-writable")
            if let extra = arguments.positional.first { throw Arguments.Problem(description: "unexpected argument \(extra)") }
            configuration.pluginsDirectory = arguments.options["plugins"] ?? configuration.pluginsDirectory
            // The same choice as the client commands', so BERTH_RUN_DIR set
            // once in a shell points both at one directory.
            configuration.runDirectory = RunDirectoryChoice(option: arguments.options["run-dir"]).path
            configuration.tokensFile = arguments.options["tokens"]
            if let bytes = try arguments.number("max-request-bytes") { configuration.maxRequestBytes = max(64, Int(bytes)) }
            if let drain = try arguments.number("drain-seconds") { configuration.drainSeconds = drain }
            if let seconds = try arguments.number("init-timeout") {
                guard seconds >= 0.1, seconds <= 3600 else { throw Arguments.Problem(description: "--init-timeout is a number of seconds from 0.1 to 3600") }
                configuration.initTimeoutSeconds = seconds
            }
            if let timeout = try arguments.number("request-timeout") { configuration.requestTimeoutSeconds = min(timeout, 86400) }
            if let seconds = try arguments.number("idle-timeout") { configuration.idleTimeout = seconds }
            if let seconds = try arguments.number("read-timeout") { configuration.readTimeout = seconds }
            if let count = try arguments.number("max-connections") { configuration.maxConnections = Int(min(1_000_000, max(1, count))) }
            if let mebibytes = try arguments.number("max-buffered-input-mb") { configuration.maxBufferedInputMB = Int(min(Double(1 << 20), max(1, mebibytes))) }
            if let instances = try arguments.number("instances") { configuration.instances = min(64, max(1, Int(instances))) }
            if let limit = try arguments.number("crash-limit") { configuration.crashLimit = Int(limit) }
            if let window = try arguments.number("crash-window") { configuration.crashWindowSeconds = window }
            if let format = arguments.options["log-format"] {
                guard let parsed = Log.Format(rawValue: format) else { throw Arguments.Problem(description: "--log-format is text or json") }
                Log.format = parsed
                configuration.logFormat = format
            }
            if let level = arguments.options["log-level"] {
                guard let parsed = Log.Level(rawValue: level) else { throw Arguments.Problem(description: "--log-level is debug, info, warn or error") }
                Log.minimumLevel = parsed
                configuration.logLevel = level
            }
        } catch {
            usageError("\(error)", help: Help.serve)
        }
        configuration.executable = ChildProcess.pinnedExecutable()
        OpenFileLimit.raiseToHardLimit()

        do {
            let host = try Host(configuration, watch: watch, runDirectoryGroupWritable: runDirectoryGroupWritable)
            return host.run()
        } catch {
            Log.error("cannot start: \(error)")
            return 1
        }
    }
}
