import BerthPOSIX
@testable import BerthWire
import Glibc
import XCTest

/// A handler's reply context (ReplyContext) and the deferred replies it
/// hands out, on a real LineServer with real sockets but no processes: the
/// server, its clients and the test's own steps all run on one event loop,
/// which the test turns until its script says stop.
final class UnitReplyContextTests: XCTestCase {
    /// Records what a watchdog would get for every request, then answers by
    /// path: /later defers (the test completes the reply); /early defers and
    /// completes before returning; any other at once.
    private final class Handler: RequestHandler {
        /// The ids of the requests handled, in order.
        var served: [String] = []
        var deferred: [DeferredReply] = []
        var onDefer: (() -> Void)?
        var snapshots: [(socket: Int32, unsent: String)] = []

        func handle(_ request: IncomingRequest, reply: borrowing ReplyContext) {
            served.append(request.id.map { String(decoding: $0, as: UTF8.self) } ?? "null")
            reply.withUnsentOutput { snapshots.append(($0.socket, String(decoding: $0.bytes, as: UTF8.self))) }
            switch request.pathString {
            case "/later":
                deferred.append(reply.deferReply())
                onDefer?()
            case "/early":
                reply.deferReply().succeed(status: 200, body: Array(#""early""#.utf8))
            default:
                Array(#""now""#.utf8).withUnsafeBytes { reply.appendSuccess(status: 200, data: $0) }
            }
        }
    }

    /// A non-blocking client on the test's loop, collecting answer lines.
    private final class Client {
        let fd: FileDescriptor
        private var pending: [UInt8] = []
        private(set) var lines: [String] = []
        var onLine: ((String) -> Void)?
        private let loop: EventLoop

        init(_ path: String, loop: EventLoop) throws {
            self.loop = loop
            fd = try UnixSocket.connect(to: path)
            try fd.setNonBlocking()
            try loop.register(fd, .readable) { [unowned self] _ in self.read() }
        }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            let n = bytes.withUnsafeBytes { Glibc.write(fd.rawValue, $0.baseAddress, $0.count) }
            XCTAssertEqual(n, bytes.count, "a short write in a test client")
        }

        func close() {
            loop.unregister(fd)
            fd.close()
        }

        private func read() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd.rawValue, $0.baseAddress, $0.count) }
            guard n > 0 else {
                if n == 0 || (errno != EAGAIN && errno != EINTR) { loop.unregister(fd) }
                return
            }
            pending += buffer[..<n]
            while let end = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 1)
                lines.append(line)
                onLine?(line)
            }
        }
    }

    private var directory = ""
    private var path = ""
    private var loop: EventLoop!
    private var listener = FileDescriptor(rawValue: -1)
    private var server: LineServer!
    private var handler = Handler()
    private var clients: [Client] = []

    override func setUpWithError() throws {
        var template = Array("/tmp/berth-reply-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno.current("mkdtemp") }
        directory = String(cString: made)
        path = directory + "/s"
        loop = try EventLoop()
        listener = try UnixSocket.listen(at: path, mode: 0o600)
        handler = Handler()
        server = LineServer(loop: loop, listener: listener, handler: handler)
        try server.start()
    }

    override func tearDown() {
        for client in clients { client.fd.close() }
        clients = []
        server = nil
        listener.close()
        unlink(path)
        rmdir(directory)
    }

    private func connect() throws -> Client {
        let client = try Client(path, loop: loop)
        clients.append(client)
        return client
    }

    /// Turns the loop until a step calls `stop`, failing after 10 s (10× and
    /// more what any script here needs; no test waits on it otherwise).
    private func turnLoopUntilStopped() throws {
        var timedOut = false
        loop.schedule(afterSeconds: 10) { [loop] in
            timedOut = true
            loop!.stop()
        }
        try loop.run()
        XCTAssertFalse(timedOut, "the script did not finish: an answer never came")
    }

    private func request(_ id: Int, _ path: String) -> String {
        #"{"id":\#(id),"method":"GET","path":"\#(path)"}"# + "\n"
    }

    private func answer(_ id: Int, _ data: String) -> String {
        #"{"id":\#(id),"status":200,"data":"\#(data)"}"#
    }

    func testADeferredReplyCompletedLaterKeepsPipelinedAnswersInOrder() throws {
        let client = try connect()
        client.send(request(1, "/now") + request(2, "/later") + request(3, "/now"))
        client.onLine = { [unowned self] _ in
            if client.lines.count == 1 {
                XCTAssertEqual(handler.served, ["1", "2"], "a request after a deferred one was served before its answer")
                handler.deferred[0].succeed(status: 200, body: Array(#""later""#.utf8))
            }
            if client.lines.count == 3 { loop.stop() }
        }
        try turnLoopUntilStopped()
        XCTAssertEqual(client.lines, [answer(1, "now"), answer(2, "later"), answer(3, "now")])
    }

    func testAReplyCompletedBeforeHandleReturnsIsAnsweredInItsPlace() throws {
        let client = try connect()
        client.send(request(1, "/early") + request(2, "/now") + request(3, "/early"))
        client.onLine = { [unowned self] _ in
            if client.lines.count == 3 { loop.stop() }
        }
        try turnLoopUntilStopped()
        XCTAssertEqual(client.lines, [answer(1, "early"), answer(2, "now"), answer(3, "early")])
        XCTAssertEqual(handler.served, ["1", "2", "3"], "a request was served twice or not at all")
    }

    func testAReplyCompletedAfterTheClientClosedWritesNothing() throws {
        // The server writes the answer into a socket whose peer is gone:
        // EPIPE, which must not end the test process.
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let client = try connect()
        client.send(request(1, "/later"))
        handler.onDefer = { [unowned self] in
            client.close()
            loop.schedule(afterSeconds: 0) { [unowned self] in
                handler.deferred[0].succeed(status: 200, body: Array(#""later""#.utf8))
                // A second completion of the same reply does nothing either.
                handler.deferred[0].fail(status: 500, code: "late", message: "again")
                loop.stop()
            }
        }
        try turnLoopUntilStopped()
        XCTAssertEqual(server.connectionCount, 0, "the connection of a client that went away is still open")
    }

    /// The server closed the connection (here closeAll, as at shutdown)
    /// while its reply was pending, and a new client was given the same
    /// descriptor number: completing the old reply must not write to it.
    func testAReplyCompletedAfterItsConnectionClosedDoesNotReachTheNextClient() throws {
        let first = try connect()
        first.send(request(1, "/later"))
        var second: Client!
        handler.onDefer = { [unowned self] in
            loop.schedule(afterSeconds: 0) { [unowned self] in
                first.close()
                server.closeAll()
                second = try! connect()
                second.send(request(2, "/now"))
                second.onLine = { [unowned self] _ in
                    if second.lines.count == 1 {
                        handler.deferred[0].succeed(status: 200, body: Array(#""stale""#.utf8))
                        second.send(request(3, "/now"))
                    } else {
                        loop.stop()
                    }
                }
            }
        }
        try turnLoopUntilStopped()
        XCTAssertEqual(handler.snapshots[0].socket, handler.snapshots[1].socket,
                       "the new client was not given the closed connection's descriptor number, which this test is about")
        XCTAssertEqual(second.lines, [answer(2, "now"), answer(3, "now")])
        XCTAssertEqual(server.connectionCount, 1)
    }

    func testAReplyCompletedTwiceAnswersOnlyItsOwnRequest() throws {
        let client = try connect()
        client.send(request(1, "/later") + request(2, "/later"))
        handler.onDefer = { [unowned self] in
            let deferred = handler.deferred
            loop.schedule(afterSeconds: 0) {
                if deferred.count == 1 {
                    deferred[0].succeed(status: 200, body: Array(#""first""#.utf8))
                } else {
                    // The first reply again, now that the second request waits.
                    deferred[0].succeed(status: 200, body: Array(#""again""#.utf8))
                    deferred[1].succeed(status: 200, body: Array(#""second""#.utf8))
                }
            }
        }
        client.onLine = { [unowned self] _ in
            if client.lines.count == 2 { loop.stop() }
        }
        try turnLoopUntilStopped()
        XCTAssertEqual(client.lines, [answer(1, "first"), answer(2, "second")])
    }

    /// What a watchdog would send in a stuck handler's place: the answers
    /// queued before it and not yet written, on the client's own socket.
    func testTheWatchdogsSnapshotIsTheUnsentOutputOnTheClientsSocket() throws {
        let client = try connect()
        client.send(request(1, "/now") + request(2, "/now") + request(3, "/now"))
        client.onLine = { [unowned self] _ in
            if client.lines.count == 3 { loop.stop() }
        }
        try turnLoopUntilStopped()
        XCTAssertEqual(client.lines, [answer(1, "now"), answer(2, "now"), answer(3, "now")])
        XCTAssertEqual(handler.snapshots.map(\.unsent), ["", answer(1, "now") + "\n", answer(1, "now") + "\n" + answer(2, "now") + "\n"])
        // The socket is the server's end of this client's connection: what
        // is written to it reaches the client.
        let socket = try XCTUnwrap(handler.snapshots.last?.socket)
        XCTAssertEqual(Glibc.write(socket, "!", 1), 1)
        var poll = pollfd(fd: client.fd.rawValue, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(Glibc.poll(&poll, 1, 10_000), 1)
        var byte: UInt8 = 0
        XCTAssertEqual(Glibc.read(client.fd.rawValue, &byte, 1), 1)
        XCTAssertEqual(byte, UInt8(ascii: "!"))
    }
}
