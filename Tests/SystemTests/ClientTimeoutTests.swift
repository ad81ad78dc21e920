import Foundation
import Glibc
import XCTest

/// Clients that hold a connection without using it: an idle one is closed,
/// one that sends a request byte by byte (slowloris) gets 408 at the
/// deadline; the worker serves everybody else meanwhile.
final class E2EClientTimeoutTests: BerthTestCase {
    func testQuietConnectionsAreClosedAfterTheIdleTimeoutAndBusyOnesAreNot() throws {
        let host = try startExampleHost(["--idle-timeout", "1", "--log-level", "debug"])
        let worker = try workerPID("cecho")
        let connectedAt = Date()
        let silent = try connect("cecho")
        let answered = try connect("cecho")
        XCTAssertEqual(try answered.call("GET", "/ping").status, 200)
        let busy = try connect("cecho")

        // The busy client sends a request every 0.2 s for 2.2 s: never idle
        // for a whole second, so never closed.
        for i in 0..<11 {
            XCTAssertEqual(try busy.call("GET", "/ping", id: "\(i)").rawID, "\(i)")
            usleep(200_000)
        }
        // The quiet ones were closed without a word (the receive timeout,
        // 5 s, bounds each wait).
        XCTAssertTrue(try silent.isClosedByServer(), "a connection that never sent anything stayed open")
        XCTAssertTrue(try answered.isClosedByServer(), "an idle connection stayed open after its answer")
        let closedAfter = Date().timeIntervalSince(connectedAt)
        XCTAssertGreaterThanOrEqual(closedAfter, 1, "closed before the idle timeout")
        XCTAssertEqual(try busy.call("GET", "/ping", id: "11").rawID, "11")
        try host.waitForLog(containing: "closed 1 connection(s) idle for 1 s")
        XCTAssertEqual(try workerPID("cecho"), worker)
    }

    func testRequestSentByteByByteGets408AtTheDeadlineWhileOthersAreServed() throws {
        let host = try startExampleHost(["--read-timeout", "1"])
        let worker = try workerPID("greeter")
        let other = try connect("greeter")
        let slow = try connect("greeter")
        let request = Array((WireRequest.line("GET", "/hello/slowloris") + "\n").utf8)
        let started = Date()
        var sent = 0
        // One byte every 100 ms: the request would take 4 s. Each wait is
        // also a chance for the answer to arrive.
        while sent < request.count {
            try slow.write([request[sent]])
            sent += 1
            var ready = pollfd(fd: slow.fd, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 100) > 0 { break }
            if sent % 5 == 0 {
                XCTAssertEqual(try other.call("GET", "/hello/other").status, 200, "the worker stopped serving others")
            }
        }
        let response = try slow.readResponse()
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(response.status, 408, response.line)
        XCTAssertEqual(response.errorCode, "read_timeout", response.line)
        XCTAssertTrue(response.errorMessage?.contains("not complete 1 s after its first byte") == true, response.line)
        XCTAssertTrue(response.errorMessage?.contains("--read-timeout") == true, response.line)
        XCTAssertLessThan(sent, request.count, "the whole request went out before the deadline")
        XCTAssertGreaterThanOrEqual(elapsed, 1, "408 before the deadline")
        XCTAssertLessThan(elapsed, 3.5, "408 long after the deadline")
        XCTAssertTrue(try slow.isClosedByServer(), "the connection stayed open after the 408")
        try host.waitForLog(containing: "answered 408 read_timeout to 1 connection(s)")
        XCTAssertEqual(try other.call("GET", "/hello/after").status, 200)
        XCTAssertEqual(try workerPID("greeter"), worker)
    }

    func testTheDeadlineIsPerRequestNotPerConnection() throws {
        try startExampleHost(["--read-timeout", "2"])
        let connection = try connect("cecho")
        // Three requests, each trickled over about 0.8 s: 2.4 s on one
        // connection, each request well within its own 2 s.
        for i in 0..<3 {
            let request = Array((WireRequest.line("GET", "/ping", id: "\(i)") + "\n").utf8)
            let pause = useconds_t(800_000 / request.count)
            for byte in request {
                try connection.write([byte])
                usleep(pause)
            }
            let response = try connection.readResponse()
            XCTAssertEqual(response.status, 200, response.line)
            XCTAssertEqual(response.rawID, "\(i)")
        }
    }

    func testPerPluginSettingsAndTheirValidation() throws {
        try sandbox.installExamples()
        try #"{"idle_timeout": 1, "read_timeout": 0.5, "max_connections": 100}"#
            .write(toFile: sandbox.plugins + "/libCEchoPlugin.json", atomically: true, encoding: .utf8)
        try startHost()
        let echo = try connect("cecho")
        let greeter = try connect("greeter")
        XCTAssertTrue(try echo.isClosedByServer(), "cecho's idle_timeout of 1 s did not apply")
        // Give greeter's once-a-second sweep the same chance to act: it must
        // not, since greeter keeps the default of 60 s.
        usleep(1_500_000)
        XCTAssertEqual(try greeter.call("GET", "/hello/still").status, 200, "greeter took cecho's idle_timeout")

        // Out-of-range values are refused with the file, the line and the range.
        for (settings, complaint) in [(#"{"idle_timeout": -1}"#, #""idle_timeout" must be a number of seconds from 0"#),
                                      (#"{"read_timeout": "10"}"#, #""read_timeout" must be a number of seconds"#),
                                      (#"{"max_connections": 0}"#, #""max_connections" must be a whole number from 1 to 1000000"#)] {
            try settings.write(toFile: sandbox.plugins + "/libCEchoPlugin.json", atomically: true, encoding: .utf8)
            let outcome = try Command.run(BuildProducts.berth, ["reload", "--run-dir", sandbox.run], environment: TestEnvironment.berth)
            XCTAssertEqual(outcome.status, 1, settings + ": " + outcome.stdout + outcome.stderr)
            XCTAssertTrue(outcome.stdout.contains("libCEchoPlugin.json:1: " + complaint), outcome.stdout)
        }
        // cecho kept serving through the refused reloads.
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
    }
}
