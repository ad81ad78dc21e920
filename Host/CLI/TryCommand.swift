import BerthAuth
import BerthJSON
import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

/// `berth try LIBRARY.so [--config FILE] [--token TOKEN]`: runs request
/// lines from stdin against one plugin, with no host of your own, and
/// prints each answer line, in order. For testing a plugin (a C author's
/// `make test`) without writing a harness.
enum TryCommand {
    static func main(_ raw: [String]) -> Int32 {
        let arguments: Arguments
        do {
            arguments = try Arguments(raw, valued: ["config", "token"], flags: [])
        } catch {
            usageError("\(error)", help: Help.tryPlugin)
        }
        guard arguments.positional.count == 1 else {
            usageError("try needs exactly one LIBRARY.so, the plugin to load", help: Help.tryPlugin)
        }
        let library = arguments.positional[0]
        guard isReadableFile(library) else {
            return fail("cannot read \(library): no such file, or not a file you can read; build the plugin first "
                        + "(swift build --product NamePlugin, or make) and give the path of its .so")
        }
        let settings = arguments.options["config"]
        if let settings, !isReadableFile(settings) {
            return fail("cannot read --config \(settings): no such file, or not a file you can read; it is the plugin's "
                        + "settings file, as it would lie beside the .so in plugins.d (e.g. {\"config\": {...}})")
        }

        // Blocked before the host starts (its spawn unblocks them for it):
        // a Ctrl-C or SIGTERM then ends the wait for stdin, and berth try
        // stops the host and removes its folder before it exits.
        let signals: SignalChannel
        do {
            signals = try SignalChannel([SIGINT, SIGTERM, SIGHUP])
        } catch {
            return fail("\(error)")
        }
        // A closed stdout (`berth try ... | head -1`) ends the loop, not the
        // process, so the folder is still removed.
        SignalChannel.ignoreBrokenPipe()

        let host: PrivateHost
        do {
            host = try PrivateHost(library: library, settings: settings)
        } catch {
            return fail("cannot prepare a folder to run \(library) in: \(error)")
        }
        defer { host.stop() }
        do {
            switch try host.start(signals: signals) {
            case .ready: break
            case .ended: return fail("the private host for \(library) did not start; its log above says why")
            case .signal(let signal): return stopped(by: signal)
            }
            let adminToken = try? AuthToken.load(AuthToken.fileName(inRunDirectory: host.runDirectory)).string
            let plugin = try host.pluginStatus(token: adminToken)
            guard plugin.state == "running", let name = plugin.name else {
                // The reason names the copy, which is gone once we exit.
                let reason = plugin.error.map { $0.replacing(host.copiedLibrary, with: library) } ?? "state \(plugin.state)"
                return fail("\(library) did not load: \(reason); the log above says more")
            }
            // A request with no auth_token gets one, so routes that are not
            // public can be tried too: --token's, else the admin token.
            let token = arguments.options["token"] ?? adminToken
            return answer(StdinLines(signals: signals), socket: host.runDirectory + "/" + name + ".sock", token: token)
        } catch {
            return fail("\(error)")
        }
    }

    /// Sends each line of stdin on one connection and prints its answer.
    /// Returns 0 at the end of stdin if every line got one.
    private static func answer(_ lines: StdinLines, socket: String, token: String?) -> Int32 {
        // The host's own time limit (504) ends a handler that hangs first.
        let client = WireClient(socketPath: socket, timeoutSeconds: 3600)
        let output = FileDescriptor(rawValue: 1)
        var unanswered = 0
        reading: while true {
            let line: [UInt8]
            switch lines.next() {
            case .end: break reading
            case .signal(let signal): return stopped(by: signal)
            case .line(let next): line = next
            }
            // The host answers a blank line with nothing: waiting would hang.
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { continue }
            let response: [UInt8]
            do {
                response = try client.send(withToken(line, token) + [UInt8(ascii: "\n")])
            } catch {
                unanswered += 1
                FileDescriptor.standardError.writeLine("berth: no answer to \(String(decoding: line, as: UTF8.self)): \(error)")
                continue
            }
            do {
                try output.writeAll(response + [UInt8(ascii: "\n")])
            } catch {
                // Whoever reads stdout has stopped (EPIPE): quietly, as a
                // program killed by SIGPIPE would.
                return 128 + SIGPIPE
            }
        }
        guard unanswered == 0 else {
            FileDescriptor.standardError.writeLine("berth: \(unanswered) request(s) got no answer")
            return 1
        }
        return 0
    }

    /// `line` with `"auth_token"` added if it is a JSON object without one;
    /// anything else as it is (the host answers a bad line itself).
    static func withToken(_ line: [UInt8], _ token: String?) -> [UInt8] {
        guard let token, !token.isEmpty, case .object(let members)? = JSONValue.parse(line),
              !members.contains(where: { $0.0 == "auth_token" }),
              let brace = line.firstIndex(of: UInt8(ascii: "{")) else { return line }
        let member = Array("\"auth_token\":\(JSONText.quote(token))".utf8) + (members.isEmpty ? [] : [UInt8(ascii: ",")])
        var result = line
        result.insert(contentsOf: member, at: brace + 1)
        return result
    }

    private static func isReadableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(path, R_OK) == 0
    }

    /// Exits as a program stopped by `signal` reports it; the caller's
    /// defer stops the host and removes its folder.
    private static func stopped(by signal: Int32) -> Int32 {
        FileDescriptor.standardError.writeLine("berth: \(SignalChannel.name(signal)) received; stopping the private host")
        return 128 + signal
    }

    private static func fail(_ message: String) -> Int32 {
        FileDescriptor.standardError.writeLine("berth: \(message)")
        return 1
    }
}
