import Foundation
import Glibc
import XCTest

/// Many short connections leave nothing behind in the worker: no
/// descriptor, and no memory beyond a small bound.
final class E2EConnectionChurnTests: BerthTestCase {
    /// Opens and closes `count` connections to `path` from `threads`
    /// threads; every tenth sends a request and reads its answer, the others
    /// close at once. Raw calls: the client must be fast enough to matter.
    private static func churn(_ path: String, count: Int, threads: Int) throws {
        let request = Array((WireRequest.line("GET", "/ping") + "\n").utf8)
        let answer = Array(#"{"id":null,"status":200,"data":{"pong":true}}"#.utf8) + [UInt8(ascii: "\n")]
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        // A constant: every thread taking `&address` at once was a data race
        // (ThreadSanitizer, Tests/sanitizers.sh thread).
        let target = address
        let failures = NSLock()
        var failure: String?
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var buffer = [UInt8](repeating: 0, count: 256)
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            for i in stride(from: thread, to: count, by: threads) {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                // Bounds connect (a full backlog blocks it) and read alike.
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var problem: String?
                let connected = withUnsafePointer(to: target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                if connected != 0 {
                    problem = "connect \(i): errno \(errno)"
                } else if i % 10 == 0 {
                    if send(fd, request, request.count, Int32(MSG_NOSIGNAL)) != request.count {
                        problem = "send \(i): errno \(errno)"
                    } else {
                        var got = 0
                        while got < answer.count {
                            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
                            if n <= 0 { break }
                            got += n
                        }
                        if !buffer[0..<got].elementsEqual(answer) {
                            problem = "answer \(i): \(String(decoding: buffer[0..<got], as: UTF8.self).debugDescription), errno \(errno)"
                        }
                    }
                }
                close(fd)
                if let problem {
                    failures.lock()
                    failure = failure ?? problem
                    failures.unlock()
                    return
                }
            }
        }
        if let failure { throw HarnessError(failure) }
    }

    func testAHundredThousandConnectionsLeaveNoDescriptorOrMemoryBehind() throws {
        try startExampleHost()
        let worker = try workerPID("cecho")
        let path = sandbox.socket("cecho")
        let baseline = try ProcessProbe.descriptorCount(worker)
        // Warm up, so the allocator and the connection table have grown to
        // what this load needs before memory is measured.
        try Self.churn(path, count: 2000, threads: 2)
        let rssBefore = try ProcessProbe.residentKiB(worker)

        let started = Date()
        try Self.churn(path, count: 100_000, threads: 2)
        let elapsed = Date().timeIntervalSince(started)

        var descriptors = -1
        let settled = try eventually { descriptors = try ProcessProbe.descriptorCount(worker); return descriptors == baseline }
        let rssAfter = try ProcessProbe.residentKiB(worker)
        print("churn: 100000 connections in \(String(format: "%.2f", elapsed)) s; worker fds \(baseline) -> \(descriptors), RSS \(rssBefore) -> \(rssAfter) KiB")
        XCTAssertTrue(settled, "the worker holds \(descriptors) descriptors after the churn, \(baseline) before")
        if !ProcessProbe.underSanitizer {
            XCTAssertLessThan(rssAfter - rssBefore, 2048, "worker RSS grew from \(rssBefore) to \(rssAfter) KiB")
        }
        XCTAssertEqual(try workerPID("cecho"), worker)
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
    }

    /// A closed connection, buffers and all, serves the next one (ConnectionPool):
    /// nothing a client left behind, half a request or answers it never
    /// read, reaches a later client.
    func testWhatAClosedConnectionLeftBehindNeverReachesTheNextOne() throws {
        // Idle connections are closed after 1 s; half a request is not
        // answered with 408 before that.
        try startExampleHost(["--idle-timeout", "1", "--read-timeout", "60"])
        let token = try sandbox.token()
        let half = #"{"method":"POST","path":"/echo","auth_token":"\#(token)","data":{"left":"#

        // Closed by the worker with half a request still in its buffer.
        let stalled = try connect("cecho", timeout: 10)
        try stalled.write(half)
        XCTAssertTrue(try stalled.isClosedByServer(), "the idle connection was not closed")
        for round in 0..<3 {
            let next = try connect("cecho")
            XCTAssertEqual(try next.call("GET", "/ping", id: "\(round)").line, #"{"id":\#(round),"status":200,"data":{"pong":true}}"#)
        }

        let ping = WireRequest.line("GET", "/ping", id: "0") + "\n"
        for round in 0..<20 {
            // One write each, so the worker reads each whole: a request it
            // answers, then half a request (on one) or 30 more requests
            // whose answers are never read (on the other).
            let partial = try connect("cecho")
            try partial.write(ping + half)
            let unread = try connect("cecho")
            try unread.write(ping + String(repeating: WireRequest.line("POST", "/echo", token: token, data: #""stale""#) + "\n", count: 30))
            XCTAssertEqual(try partial.readResponse().status, 200)
            XCTAssertEqual(try unread.readResponse().status, 200)
            partial.close()
            unread.close()

            let next = try connect("cecho")
            XCTAssertEqual(try next.call("POST", "/echo", token: token, data: #"{"round":\#(round)}"#, id: "\(round + 1)").line,
                           #"{"id":\#(round + 1),"status":200,"data":{"round":\#(round)}}"#)
            XCTAssertEqual(try next.call("GET", "/ping", id: "2").line, #"{"id":2,"status":200,"data":{"pong":true}}"#)
        }
    }
}
