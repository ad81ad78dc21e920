import Foundation
import Glibc
import XCTest

/// A crashing worker takes down only its own plugin, which comes back.
final class E2ECrashIsolationTests: BerthTestCase {
    /// Calls greeter in a loop on its own thread and keeps score, so the
    /// test can show the other plugin never missed a beat.
    private final class GreeterLoop {
        private let lock = NSLock()
        private var stopRequested = false
        private var succeeded = 0
        private var failures: [String] = []
        private let done = DispatchSemaphore(value: 0)

        init(socket: String) {
            let thread = Thread { [self] in
                defer { done.signal() }
                var connection: WireConnection?
                var i = 0
                while !isStopped {
                    i += 1
                    do {
                        // A fresh connection now and then: accepting must keep working too.
                        if connection == nil || i % 10 == 0 { connection = try WireConnection(path: socket) }
                        let response = try connection!.call("GET", "/hello/loop\(i)", id: String(i))
                        if response.line == #"{"id":\#(i),"status":200,"data":{"greeting":"Hello, loop\#(i)!"}}"# {
                            record(nil)
                        } else {
                            record("unexpected answer: \(response.line)")
                        }
                    } catch {
                        record("request \(i) failed: \(error)")
                        connection = nil
                    }
                }
            }
            thread.start()
        }

        private var isStopped: Bool {
            lock.lock()
            defer { lock.unlock() }
            return stopRequested
        }

        private func record(_ failure: String?) {
            lock.lock()
            if let failure { failures.append(failure) } else { succeeded += 1 }
            lock.unlock()
        }

        var successes: Int {
            lock.lock()
            defer { lock.unlock() }
            return succeeded
        }

        /// Stops the loop; returns (successes, failures).
        func stop() -> (Int, [String]) {
            lock.lock()
            stopRequested = true
            lock.unlock()
            _ = done.wait(timeout: .now() + 10)
            lock.lock()
            defer { lock.unlock() }
            return (succeeded, failures)
        }
    }

    func testSegfaultingWorkerIsRestartedWhileOthersKeepServing() throws {
        let host = try startExampleHost()
        let token = try sandbox.token()
        let oldPID = try workerPID("cecho")
        let greeterPID = try workerPID("greeter")
        for _ in 0..<3 { XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200) }

        let loop = GreeterLoop(socket: sandbox.socket("greeter"))
        // Let the loop get going so it provably spans the crash.
        let started = Date()
        while loop.successes < 20 && Date().timeIntervalSince(started) < 5 { usleep(1_000) }

        let mark = host.logMark
        XCTAssertEqual(kill(oldPID, SIGSEGV), 0)
        try host.waitForLog(containing: "[cecho] worker \(oldPID) killed by SIGSEGV; restarting in 0.1 s (restart 1)", after: mark)

        // A client arriving while cecho is down waits in the host-owned
        // socket's backlog and is answered by the next worker.
        let early = try connect("cecho")
        try early.write(WireRequest.line("GET", "/ping", id: "\"early\"") + "\n")

        let serving = try host.waitForLog(after: mark, where: {
            $0.contains("[cecho] serving \(self.sandbox.socket("cecho")) (version 1.0.0, generation 1, worker ") && $0.hasSuffix(", restart 1)")
        }, "announcing cecho's restart")
        XCTAssertEqual(try early.readLine(), #"{"id":"early","status":200,"data":{"pong":true}}"#)

        let beforeStop = loop.successes
        // A few more greeter rounds after the restart, then stop the loop.
        while loop.successes < beforeStop + 20 && Date().timeIntervalSince(started) < 10 { usleep(1_000) }
        let (successes, failures) = loop.stop()
        XCTAssertEqual(failures, [], "greeter failed while cecho crashed")
        XCTAssertGreaterThanOrEqual(successes, 40)

        XCTAssertEqual(try call("cecho", "POST", "/echo", token: token, data: #"{"back":true}"#).line,
                       #"{"id":null,"status":200,"data":{"back":true}}"#)
        let entry = try plugin("cecho", in: try status())
        let newPID = try XCTUnwrap((entry["pid"] as? NSNumber)?.int32Value)
        XCTAssertNotEqual(newPID, oldPID)
        XCTAssertTrue(serving.contains("worker \(newPID), restart 1)"), serving)
        XCTAssertEqual(entry["state"] as? String, "running")
        XCTAssertEqual(jsonInt(entry["restarts"]), 1)
        XCTAssertEqual(entry["last_exit"] as? String, "killed by SIGSEGV")
        // Counts span workers: 3 before the crash, "early" and "back" after.
        XCTAssertEqual(jsonInt(entry["requests"]), 5, "\(entry)")
        XCTAssertTrue(entry["error"] is NSNull, "\(entry)")
        XCTAssertEqual(ProcessProbe.commandName(newPID), "berth:cecho")
        // Greeter's worker was never touched.
        XCTAssertEqual(try workerPID("greeter"), greeterPID)
        XCTAssertEqual(jsonInt(try plugin("greeter", in: try status())["restarts"]), 0)
    }

    func testHandlerThatAbortsClosesTheConnectionAndThePluginComesBack() throws {
        try sandbox.installExamples()
        try PluginBuilder.build(TestPlugins.crashy, fileName: "libcrashy.so", into: sandbox.plugins)
        let host = try startHost()
        let oldPID = try workerPID("crashy")
        XCTAssertEqual(try call("crashy", "GET", "/ok").line, #"{"id":null,"status":200,"data":{"ok":true}}"#)

        let mark = host.logMark
        let victim = try connect("crashy")
        try victim.write(WireRequest.line("GET", "/boom") + "\n")
        // The client learns at once that its connection is gone: no answer,
        // no hang until the receive timeout.
        let began = Date()
        XCTAssertThrowsError(try victim.readLine()) { error in
            XCTAssertEqual(error as? WireError, .closed(partial: ""), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(began), 4)

        try host.waitForLog(containing: "[crashy] worker \(oldPID) killed by SIGABRT; restarting in 0.1 s (restart 1)", after: mark)
        try host.waitForLog(after: mark, where: { $0.contains("[crashy] serving ") && $0.hasSuffix(", restart 1)") },
                            "announcing crashy's restart")
        XCTAssertEqual(try call("crashy", "GET", "/ok", id: "2").line, #"{"id":2,"status":200,"data":{"ok":true}}"#)
        let entry = try plugin("crashy", in: try status())
        XCTAssertEqual(jsonInt(entry["restarts"]), 1)
        XCTAssertEqual(entry["last_exit"] as? String, "killed by SIGABRT")
        // The others never noticed.
        XCTAssertEqual(try call("greeter", "GET", "/hello/x").status, 200)
        XCTAssertEqual(jsonInt(try plugin("cecho", in: try status())["restarts"]), 0)
    }

    func testRepeatedCrashesBackOff() throws {
        try PluginBuilder.build(TestPlugins.crashy, fileName: "libcrashy.so", into: sandbox.plugins)
        let host = try startHost()
        // Two crashes in quick succession: the second restart waits twice as long.
        for (round, delay) in [(1, "0.1"), (2, "0.2")] {
            let pid = try workerPID("crashy")
            let mark = host.logMark
            let victim = try connect("crashy")
            try victim.write(WireRequest.line("GET", "/boom") + "\n")
            XCTAssertThrowsError(try victim.readLine())
            try host.waitForLog(containing: "worker \(pid) killed by SIGABRT; restarting in \(delay) s (restart \(round))", after: mark)
            try host.waitForLog(after: mark, where: { $0.contains("[crashy] serving ") && $0.hasSuffix(", restart \(round))") },
                                "announcing restart \(round)")
        }
        XCTAssertEqual(try call("crashy", "GET", "/ok").status, 200)
        XCTAssertEqual(jsonInt(try plugin("crashy", in: try status())["restarts"]), 2)
    }
}
