import Foundation
import Glibc
import XCTest

/// Stopping the host: cleanly on SIGTERM, and without orphans when killed.
final class E2EShutdownTests: BerthTestCase {
    private func socketFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: sandbox.run).filter { $0.hasSuffix(".sock") }.sorted()
    }

    func testSIGTERMExitsZeroAndCleansUp() throws {
        let host = try startExampleHost()
        let workers = [try workerPID("greeter"), try workerPID("cecho")]
        // An idle client connected at shutdown must not hold it up.
        let idle = try connect("greeter")
        XCTAssertEqual(try idle.call("GET", "/hello/idle").status, 200)

        let mark = host.logMark
        host.signal(SIGTERM)
        XCTAssertEqual(try host.waitForExit(timeout: 10), 0)
        XCTAssertEqual(host.process.terminationReason, .exit)
        try host.waitForLog(containing: "SIGTERM received", after: mark)
        try host.waitForLog(containing: "[berth] stopped", after: mark)

        XCTAssertEqual(try socketFiles(), [], "sockets left behind")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run + "/berth.pid"), "berth.pid left behind")
        XCTAssertTrue(FileManager.default.fileExists(atPath: sandbox.run + "/.auth_token"), "the token must survive")
        for pid in workers {
            // The host reaped its workers before exiting: not even zombies.
            XCTAssertFalse(ProcessProbe.exists(pid), "worker \(pid) outlived the host")
        }
        XCTAssertTrue(try idle.isClosedByServer(), "idle connection not closed at shutdown")
        XCTAssertThrowsError(try connect("greeter"))
    }

    func testSIGINTAlsoStopsCleanly() throws {
        let host = try startExampleHost()
        host.signal(SIGINT)
        XCTAssertEqual(try host.waitForExit(), 0)
        XCTAssertEqual(try socketFiles(), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run + "/berth.pid"))
    }

    func testSIGTERMWaitsForTheRequestInFlight() throws {
        try sandbox.installExamples()
        try PluginBuilder.build(TestPlugins.slow, fileName: "libslow.so", into: sandbox.plugins)
        let host = try startHost()
        let slowPID = try workerPID("slow")

        let client = try connect("slow")
        try client.write(WireRequest.line("GET", "/slow", id: "42") + "\n")
        // The handler says when it has the request: only then is it "in flight".
        try host.waitForLog(containing: "[slow] slow request started")
        let sentAt = Date()
        host.signal(SIGTERM)

        XCTAssertEqual(try client.readLine(), #"{"id":42,"status":200,"data":{"slow":true}}"#)
        XCTAssertTrue(try client.isClosedByServer(), "connection open after the drained answer")
        XCTAssertEqual(try host.waitForExit(timeout: 10), 0)
        // It waited for the handler rather than the full drain timeout.
        XCTAssertLessThan(Date().timeIntervalSince(sentAt), 5)
        XCTAssertFalse(ProcessProbe.exists(slowPID))
        XCTAssertEqual(try socketFiles(), [])
    }

    func testSIGKILLedHostTakesItsWorkersAlongAndTheNextHostReplacesStaleSockets() throws {
        let host = try startExampleHost()
        let token = try sandbox.token()
        let workers = [try workerPID("greeter"), try workerPID("cecho")]
        for pid in workers { XCTAssertTrue(ProcessProbe.commandName(pid)?.hasPrefix("berth:") == true) }

        host.signal(SIGKILL)
        XCTAssertEqual(try host.waitForExit(), SIGKILL)
        XCTAssertEqual(host.process.terminationReason, .uncaughtSignal)
        for pid in workers {
            XCTAssertTrue(ProcessProbe.waitUntilGoneOrZombie(pid), "worker \(pid) survived its host's SIGKILL")
        }
        // A killed host cleans nothing: the stale files are really there.
        XCTAssertEqual(try socketFiles(), ["berth.sock", "cecho.sock", "greeter.sock"])
        XCTAssertThrowsError(try connect("greeter"), "a stale socket still accepted a connection")

        let next = try startHost()
        XCTAssertNotEqual(next.pid, host.pid)
        XCTAssertEqual(try sandbox.token(), token)
        XCTAssertEqual(try call("greeter", "GET", "/hello/again").line,
                       #"{"id":null,"status":200,"data":{"greeting":"Hello, again!"}}"#)
        XCTAssertEqual(try call("cecho", "POST", "/echo", token: token, data: "true").line,
                       #"{"id":null,"status":200,"data":true}"#)
        let report = try status()
        XCTAssertEqual(jsonInt((report["host"] as? [String: Any])?["pid"]), Int(next.pid))
        XCTAssertEqual(try String(contentsOfFile: sandbox.run + "/berth.pid", encoding: .utf8), "\(next.pid)\n")
        for name in ["greeter", "cecho"] {
            let pid = try XCTUnwrap((try plugin(name, in: report)["pid"] as? NSNumber)?.int32Value)
            XCTAssertFalse(workers.contains(pid))
        }
    }

    func testSecondHostOnTheSameRunDirectoryIsRefused() throws {
        let first = try startExampleHost()
        let second = try startHost(waitUntilReady: false)
        let exitStatus = try second.waitForExit(timeout: 10)
        XCTAssertNotEqual(exitStatus, 0)
        let refusal = try second.waitForLog(containing: "another berth")
        XCTAssertTrue(refusal.contains("another berth (pid \(first.pid)) is serving \(sandbox.run)"), refusal)
        // The message ends with what to do, not with a stray strerror.
        XCTAssertTrue(refusal.hasSuffix("stop it first or use another --run-dir"), refusal)
        XCTAssertFalse(second.logText.contains("ready:"), second.logText)

        // The first host is untouched: same pid file, sockets, answers.
        XCTAssertEqual(try String(contentsOfFile: sandbox.run + "/berth.pid", encoding: .utf8), "\(first.pid)\n")
        XCTAssertEqual(try socketFiles(), ["berth.sock", "cecho.sock", "greeter.sock"])
        XCTAssertEqual(try call("greeter", "GET", "/hello/first").status, 200)
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
        XCTAssertEqual(jsonInt((try status()["host"] as? [String: Any])?["pid"]), Int(first.pid))
    }

    func testSIGHUPWithNothingChangedKeepsTheWorkers() throws {
        let host = try startExampleHost()
        let workers = [try workerPID("greeter"), try workerPID("cecho")]
        let mark = host.logMark
        host.signal(SIGHUP)
        try host.waitForLog(containing: "reload done: 0 added, 0 updated, 0 removed, 0 failed, 2 unchanged", after: mark)
        XCTAssertTrue(host.process.isRunning)
        XCTAssertEqual(try call("greeter", "GET", "/hello/hup").status, 200)
        // Same workers: nothing was restarted.
        XCTAssertEqual([try workerPID("greeter"), try workerPID("cecho")], workers)
    }

    func testSIGTERMWhileAPluginWaitsToRestart() throws {
        try sandbox.installExamples()
        try PluginBuilder.build(TestPlugins.crashy, fileName: "libcrashy.so", into: sandbox.plugins)
        let host = try startHost()
        let crashed = try workerPID("crashy")
        let mark = host.logMark
        let victim = try connect("crashy")
        try victim.write(WireRequest.line("GET", "/boom") + "\n")
        XCTAssertThrowsError(try victim.readLine())
        try host.waitForLog(containing: "worker \(crashed) killed by SIGABRT; restarting in", after: mark)
        // Usually inside the 0.1 s backoff; either way it must stop cleanly.
        host.signal(SIGTERM)
        XCTAssertEqual(try host.waitForExit(), 0)
        XCTAssertEqual(try socketFiles(), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run + "/berth.pid"))
    }

    func testSIGTERMDeliversALargeAnswerTheClientHasNotReadYet() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let payload = String(repeating: "q", count: 1_000_000)
        let client = try connect("cecho")
        // The answer is far larger than the socket buffer, and the client
        // does not read yet: most of it is still queued in the worker.
        try client.write(WireRequest.line("POST", "/echo", token: token, data: "\"" + payload + "\"", id: "1") + "\n")
        // The worker counts the request once the handler has answered; no
        // log line marks that moment, so status is polled.
        XCTAssertTrue(try eventually { jsonInt(try self.plugin("cecho", in: try self.status())["requests"]) == 1 })

        let host = try XCTUnwrap(hosts.first)
        host.signal(SIGTERM)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.rawID, "1")
        XCTAssertEqual((response.data as? String)?.count, payload.count, "the answer was cut short")
        XCTAssertEqual(try host.waitForExit(), 0)
    }

    func testSIGKILLedHostTakesABusyWorkerAlongAtOnce() throws {
        try PluginBuilder.build(TestPlugins.slow, fileName: "libslow.so", into: sandbox.plugins)
        let host = try startHost()
        let worker = try workerPID("slow")
        let client = try connect("slow")
        try client.write(WireRequest.line("GET", "/hang") + "\n")
        try host.waitForLog(containing: "[slow] hang started")

        // The worker is stuck in its handler and cannot notice the host's
        // channel closing: only the parent-death signal can end it now.
        host.signal(SIGKILL)
        XCTAssertEqual(try host.waitForExit(), SIGKILL)
        let gone = ProcessProbe.waitUntilGoneOrZombie(worker, timeout: 5)
        if !gone { kill(worker, SIGKILL) }
        XCTAssertTrue(gone, "busy worker \(worker) outlived its SIGKILLed host")
    }
}
