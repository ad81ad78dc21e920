import Foundation
import Glibc
import XCTest

/// A client that pipelines requests and does not read the answers: the
/// worker stops reading it once 4 MiB of answers wait, so its memory stays
/// bounded, and it goes on serving everybody else.
final class E2EBackPressureTests: BerthTestCase {
    private struct Flood {
        let request: [UInt8]
        /// Bytes the client managed to send before the worker stopped reading.
        let sent: Int
        var completeRequests: Int { sent / request.count }
    }

    /// Sends copies of `request` until the socket stays unwritable for a
    /// second (the worker no longer reads it) or `budget` bytes went out.
    private func flood(_ connection: WireConnection, with request: [UInt8], budget: Int) throws -> Flood {
        let chunk = Array(repeating: request, count: 64).flatMap { $0 }
        var sent = 0
        while sent < budget {
            var ready = pollfd(fd: connection.fd, events: Int16(POLLOUT), revents: 0)
            if poll(&ready, 1, 1000) == 0 { break }
            // The stream is copies of one request: continue where it stopped.
            let offset = sent % chunk.count
            let n = chunk.withUnsafeBytes {
                send(connection.fd, $0.baseAddress! + offset, chunk.count - offset, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw WireError.system("send", errno)
            }
            sent += n
        }
        return Flood(request: request, sent: sent)
    }

    private func echoRequest(token: String) -> [UInt8] {
        Array((WireRequest.line("POST", "/echo", token: token, data: "\"" + String(repeating: "x", count: 2000) + "\"") + "\n").utf8)
    }

    private let echoAnswer = #"{"id":null,"status":200,"data":""# + String(repeating: "x", count: 2000) + #""}"#

    func testAClientThatNeverReadsIsNoLongerReadAndTheWorkerStaysSmall() throws {
        // A small request limit too: the requests waiting while the client
        // does not read add up to far more, and are still not one large request.
        try startExampleHost(["--max-request-bytes", "4096"])
        let token = try sandbox.token()
        let worker = try workerPID("cecho")
        let before = try ProcessProbe.residentKiB(worker)
        let greedy = try connect("cecho", timeout: 10)
        // 200 MB offered; each request is answered by ~2 KB.
        let flood = try flood(greedy, with: echoRequest(token: token), budget: 200 << 20)
        let during = try ProcessProbe.residentKiB(worker)
        print("back-pressure: the client sent \(flood.sent) bytes (\(flood.completeRequests) requests) before the worker stopped reading; worker RSS \(before) KiB -> \(during) KiB")
        XCTAssertLessThan(flood.sent, 32 << 20, "the worker kept reading a client that reads nothing")
        // 4 MiB of answers wait, plus what their buffers round up to (at most twice that).
        if !ProcessProbe.underSanitizer {
            XCTAssertLessThan(during - before, 12 << 10, "worker RSS grew from \(before) to \(during) KiB")
        }

        // Everybody else is served meanwhile.
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
        if !ProcessProbe.underSanitizer { XCTAssertLessThan(try ProcessProbe.residentKiB(worker) - before, 12 << 10) }

        // Once the client reads, every answer comes, in order, and nothing
        // was refused; the request cut short by the flood completes too.
        for i in 0..<flood.completeRequests {
            let line = try greedy.readLine()
            guard line == echoAnswer else { return XCTFail("answer \(i) of \(flood.completeRequests): \(line.prefix(200))") }
        }
        try greedy.write(Array(flood.request[(flood.sent % flood.request.count)...]))
        XCTAssertEqual(try greedy.readLine(), echoAnswer)
        XCTAssertEqual(try greedy.call("GET", "/ping").status, 200)
        XCTAssertEqual(try workerPID("cecho"), worker)
    }

    func testAClientThatNeverReadsIsClosedAfterTheIdleTimeout() throws {
        let host = try startExampleHost(["--idle-timeout", "2", "--log-level", "debug"])
        let token = try sandbox.token()
        let greedy = try connect("cecho", timeout: 10)
        let mark = host.logMark
        let flood = try flood(greedy, with: echoRequest(token: token), budget: 200 << 20)
        XCTAssertLessThan(flood.sent, 32 << 20)
        try host.waitForLog(containing: "closed 1 connection(s) idle for 2 s", after: mark)
        // What was already in the socket arrives, then the close: the
        // answers still waiting in the worker are dropped with the connection.
        var answers = 0
        while (try? greedy.readLine()) != nil { answers += 1 }
        XCTAssertLessThan(answers, flood.completeRequests, "every answer arrived: the connection was not cut")
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
    }
}
