import BerthJSON
import BerthPOSIX
import BerthWire
import Glibc

/// The host `berth try` runs a plugin in: a real `berth serve`, so the
/// plugin loads exactly as a worker loads it, with only that plugin (and
/// its settings file) in a temporary folder of its own, which goes when
/// it stops.
final class PrivateHost {
    let root: String
    var pluginsDirectory: String { root + "/plugins.d" }
    var runDirectory: String { root + "/run" }
    /// Where the library was copied: the host's messages name this path.
    private(set) var copiedLibrary = ""
    private var pid: pid_t = 0
    private var ended = false

    /// Copies `library` (and `settings`, as the settings file beside it)
    /// into a new temporary folder.
    init(library: String, settings: String?) throws {
        var template = Array("\(Self.temporaryDirectory)/berth-try-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Errno.current("mkdtemp in \(Self.temporaryDirectory) (set TMPDIR to a folder you can write)")
        }
        root = String(cString: made)
        do {
            _ = try Files.makeDirectory(pluginsDirectory, mode: 0o700)
            var fileName = String(library.split(separator: "/").last ?? "plugin.so")
            // The host loads only *.so files from its plugins folder.
            if !fileName.hasSuffix(".so") { fileName += ".so" }
            copiedLibrary = pluginsDirectory + "/" + fileName
            try Files.writeAtomically(copiedLibrary, try Files.read(library), mode: 0o600)
            if let settings {
                try Files.writeAtomically(pluginsDirectory + "/" + String(fileName.dropLast(3)) + ".json", try Files.read(settings), mode: 0o600)
            }
        } catch {
            remove()
            throw error
        }
    }

    private static var temporaryDirectory: String {
        getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    /// Starts `berth serve` on the folder and waits until it has settled
    /// its plugin, ended (it said why on stderr), or one of `signals` came.
    func start(signals: SignalChannel) throws -> ReadinessSocket.Outcome {
        let readiness = try ReadinessSocket(path: root + "/notify")
        let environment = ChildProcess.currentEnvironment()
            .filter { !$0.hasPrefix("NOTIFY_SOCKET=") && !$0.hasPrefix(StopWithParent.variable + "=") }
            + ["NOTIFY_SOCKET=\(readiness.path)", StopWithParent.environmentEntry]
        // Standard output carries only answers: the host and its workers
        // (and anything a plugin prints) write to standard error instead.
        // The spawn copies descriptors 0-2 as they are at that moment, so
        // fd 1 points at stderr only around it.
        let savedOutput = dup(1)
        dup2(2, 1)
        defer {
            dup2(savedOutput, 1)
            Glibc.close(savedOutput)
        }
        // A short drain: the host stops only after every answer was read,
        // so it only bounds the wait for a worker stuck in init.
        pid = try ChildProcess.spawn(ChildProcess.currentExecutable(),
                                     ["serve", "--plugins", pluginsDirectory, "--run-dir", runDirectory, "--drain-seconds", "1"],
                                     descriptors: [], environment: environment)
        return readiness.waitForReady(signals: signals) { !hasEnded() }
    }

    private func hasEnded() -> Bool {
        if !ended {
            var status: Int32 = 0
            ended = waitpid(pid, &status, WNOHANG) == pid
        }
        return ended
    }

    /// The plugin's entry in the host's status: its name, state and why it
    /// failed.
    func pluginStatus(token: String?) throws -> (name: String?, state: String, error: String?) {
        let client = WireClient(socketPath: runDirectory + "/berth.sock", timeoutSeconds: 30)
        let answer = try client.send(WireClient.requestLine(method: "GET", path: "/status", token: token, data: nil))
        guard let plugin = JSONValue.parse(answer)?["data"]?["plugins"]?.arrayValue?.first else {
            throw Errno(EPROTO, "the private host's status lists no plugin: \(String(decoding: answer, as: UTF8.self))")
        }
        return (plugin["name"]?.stringValue, plugin["state"]?.stringValue ?? "unknown", plugin["error"]?.stringValue)
    }

    /// Stops the host as SIGTERM does (in-flight requests finish) and waits
    /// for it, then removes the folder.
    func stop() {
        if pid > 0 && !hasEnded() {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            ended = true
        }
        remove()
    }

    private func remove() {
        Self.removeTree(root)
    }

    private static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in (try? Files.list(path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
