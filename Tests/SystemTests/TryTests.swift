import Foundation
import XCTest

/// `berth try LIBRARY.so`: request lines on stdin, answer lines on stdout,
/// against a plugin loaded as a worker loads it, with no host of one's own.
final class TryTests: BerthTestCase {
    private func buildHello() throws -> String {
        try PluginBuilder.build(TryPlugins.hello, fileName: "libhello.so", into: sandbox.root)
    }

    private func runTry(_ arguments: [String], _ lines: [String]) throws -> Command.Result {
        try Command.run(BuildProducts.berth, ["try"] + arguments, stdin: lines.joined(separator: "\n") + "\n", timeout: 60)
    }

    func testAnswersEachLineInOrderOnStdoutAlone() throws {
        let library = try buildHello()
        let settings = sandbox.root + "/hello.json"
        try #"{"config": {"greeting": "hi"}}"#.write(toFile: settings, atomically: true, encoding: .utf8)
        let result = try runTry([library, "--config", settings], [
            #"{"method":"GET","path":"/hello/bob"}"#,
            #"{"id":7,"method":"GET","path":"/hello/a%2Fb%22c"}"#,
            #"{"method":"GET","path":"/hello/"}"#,
            #"{"method":"GET","path":"/hello/%FF"}"#,
            "",
            #"{"method":"GET","path":"/secret"}"#,
            #"{"method":"GET","path":"/config"}"#,
            #"{"method":"GET","path":"/refuse"}"#,
            "not json",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(lines.count, 8, result.stdout)
        guard lines.count == 8 else { return }
        let answers = try lines.map(WireResponse.init(line:))
        XCTAssertEqual(lines[0], #"{"id":null,"status":200,"data":{"hello":"bob","length":3}}"#)
        // A parameter is percent-decoded and may then hold '/' (and a quote,
        // which berth_json_string escapes).
        XCTAssertEqual(answers[1].rawID, "7")
        XCTAssertEqual(answers[1].dataObject?["hello"] as? String, "a/b\"c")
        // An empty segment is no parameter.
        XCTAssertEqual(answers[2].status, 404, lines[2])
        // A byte that is not UTF-8 becomes U+FFFD, so the answer is JSON.
        XCTAssertEqual(answers[3].status, 200, lines[3])
        XCTAssertEqual(answers[3].dataObject?["hello"] as? String, "\u{FFFD}")
        XCTAssertEqual(jsonInt(answers[3].dataObject?["length"]), 1)
        // No auth_token: the admin token is added, so the route opens.
        XCTAssertEqual(lines[4], #"{"id":null,"status":200,"data":{"secret":true}}"#)
        // --config is the plugin's settings file; init gets its "config".
        XCTAssertEqual(lines[5], #"{"id":null,"status":200,"data":{"greeting": "hi"}}"#)
        // respond_error escapes both code and message.
        XCTAssertEqual(answers[6].status, 409)
        XCTAssertEqual(answers[6].errorCode, "c\"ode")
        XCTAssertEqual(answers[6].errorMessage, "a \"quoted\" \\ word\nand a \\n")
        XCTAssertEqual(answers[7].errorCode, "invalid_json", lines[7])

        XCTAssertFalse(result.stdout.contains("printed by the plugin"), result.stdout)
        XCTAssertTrue(result.stderr.contains("printed by the plugin to stdout"), result.stderr)
        XCTAssertTrue(result.stderr.contains("hello plugin ready"), result.stderr)
    }

    func testTokenOptionAndATokenInTheLineAreKept() throws {
        let library = try buildHello()
        let secret = #"{"method":"GET","path":"/secret"}"#
        let withOption = try runTry([library, "--token", "not-the-token"], [secret])
        XCTAssertEqual(withOption.status, 0, withOption.stderr)
        XCTAssertEqual(try WireResponse(line: withOption.stdout.trimmingCharacters(in: .newlines)).errorMessage?.hasPrefix("wrong auth_token"), true,
                       withOption.stdout)
        let none = try runTry([library, "--token", ""], [secret, #"{"method":"GET","path":"/secret","auth_token":"mine"}"#])
        let answers = try none.stdout.split(separator: "\n").map { try WireResponse(line: String($0)) }
        XCTAssertEqual(answers.map(\.errorMessage?.first), ["m", "w"], none.stdout)
    }

    func testTriesTheGreeterExample() throws {
        let result = try runTry([BuildProducts.greeter], [
            #"{"method":"GET","path":"/hello/bob"}"#,
            #"{"method":"GET","path":"/whoami"}"#,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, #"{"id":null,"status":200,"data":{"greeting":"Hello, bob!"}}"#)
        // Scope "whoami": the admin token opens it.
        XCTAssertEqual(try WireResponse(line: lines.last ?? "").status, 200, result.stdout)
    }

    func testAPluginThatDoesNotLoadFailsWithItsReason() throws {
        let library = try PluginBuilder.build(TestPlugins.failingInit(name: "broken", reason: "needs a database at /nowhere"),
                                              fileName: "libbroken.so", into: sandbox.root)
        let result = try runTry([library], [#"{"method":"GET","path":"/ping"}"#])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("berth: \(library) did not load: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("needs a database at /nowhere"), result.stderr)
    }

    func testMistakesInTheCommandSayWhatToDo() throws {
        let missing = try runTry([sandbox.root + "/libnone.so"], [])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("build the plugin first"), missing.stderr)
        let noLibrary = try runTry([], [])
        XCTAssertEqual(noLibrary.status, 64)
        XCTAssertTrue(noLibrary.stderr.contains("try needs exactly one LIBRARY.so"), noLibrary.stderr)
        let badConfig = try runTry([BuildProducts.cecho, "--config", sandbox.root + "/none.json"], [])
        XCTAssertEqual(badConfig.status, 1)
        XCTAssertTrue(badConfig.stderr.contains("it is the plugin's settings file"), badConfig.stderr)
    }

    /// `berth try` killed with SIGKILL (it cannot stop its host itself)
    /// still takes its private host down: no stray `berth serve` is left.
    func testThePrivateHostEndsWhenTryIsKilled() throws {
        let running = try startInteractiveTry()
        defer { running.cleanUp() }
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        XCTAssertTrue(eventually(timeout: 30) { Self.hasEnded(running.host) }, "the private host \(running.host) outlived berth try")
    }

    /// Ctrl-C (SIGINT to berth try) while it waits for stdin: it stops its
    /// host, removes its folder and exits 130, as a program stopped by
    /// SIGINT reports.
    func testAnInterruptedTryStopsItsHostAndRemovesItsFolder() throws {
        let running = try startInteractiveTry()
        defer { running.cleanUp() }
        kill(running.process.processIdentifier, SIGINT)
        running.process.waitUntilExit()
        XCTAssertEqual(running.process.terminationReason, .exit)
        XCTAssertEqual(running.process.terminationStatus, 130)
        XCTAssertTrue(Self.hasEnded(running.host), "berth try returned before its host \(running.host) ended")
        XCTAssertFalse(FileManager.default.fileExists(atPath: running.folder), running.folder)
    }

    /// SIGTERM while the plugin's init still runs (the host is not ready
    /// yet): berth try stops at once, with its host and folder, instead of
    /// waiting out the init time limit.
    func testASignalBeforeThePluginIsReadyStopsTry() throws {
        let library = try PluginBuilder.build(TryPlugins.blockingInit, fileName: "libblocking.so", into: sandbox.root)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuildProducts.berth)
        process.arguments = ["try", library]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        defer {
            input.fileHandleForWriting.closeFile()
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        _ = try readOutput(from: errors.fileHandleForReading.fileDescriptor, timeout: 60) { $0.contains("init started") }
        let (host, folder) = try privateHost(of: process)
        defer {
            kill(host, SIGKILL)
            try? FileManager.default.removeItem(atPath: folder)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143)
        XCTAssertTrue(Self.hasEnded(host), "berth try returned before its host \(host) ended")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder), folder)
    }

    /// A `berth try` of the C example whose stdin stays open, once it has
    /// answered a first request (so its private host is up).
    private struct InteractiveTry {
        let process: Process
        let input: Pipe
        let host: pid_t
        let folder: String

        func cleanUp() {
            input.fileHandleForWriting.closeFile()
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            kill(host, SIGKILL)
            // A SIGKILLed berth try cannot remove its folder: the test does.
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private func startInteractiveTry() throws -> InteractiveTry {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuildProducts.berth)
        process.arguments = ["try", BuildProducts.cecho]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(#"{"method":"GET","path":"/ping"}"#.utf8 + [0x0A]))
        let answer = try readOutput(from: output.fileHandleForReading.fileDescriptor, timeout: 60) { $0.contains("\n") }
        XCTAssertEqual(answer, #"{"id":null,"status":200,"data":{"pong":true}}"# + "\n")
        let (host, folder) = try privateHost(of: process)
        return InteractiveTry(process: process, input: input, host: host, folder: folder)
    }

    /// The pid of the `berth serve` a `berth try` started, and its folder.
    private func privateHost(of process: Process) throws -> (pid_t, String) {
        let children = try String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children", encoding: .utf8)
        let host = try XCTUnwrap(children.split(separator: " ").first.flatMap { pid_t($0) }, children)
        let arguments = try String(contentsOfFile: "/proc/\(host)/cmdline", encoding: .utf8).split(separator: "\0").map(String.init)
        let plugins = try XCTUnwrap(arguments.firstIndex(of: "--plugins").map { arguments[$0 + 1] }, "\(arguments)")
        return (host, (plugins as NSString).deletingLastPathComponent)
    }

    /// Gone, or a zombie waiting for whoever inherited it to reap it.
    private static func hasEnded(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// What `fd` gave until `done` holds for all of it.
    private func readOutput(from fd: Int32, timeout: Double, until done: (String) -> Bool) throws -> String {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while !done(String(decoding: bytes, as: UTF8.self)) {
            guard Date() < deadline else { throw HarnessError("no line within \(timeout) s; got \(String(decoding: bytes, as: UTF8.self))") }
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 100) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { throw HarnessError("end of output; got \(String(decoding: bytes, as: UTF8.self))") }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
