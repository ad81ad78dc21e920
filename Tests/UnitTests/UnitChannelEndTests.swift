import BerthAuth
import BerthChannel
import BerthPOSIX
import Glibc
import XCTest

/// Both ends of a channel on a real socket pair, in one thread: the host's
/// end never waits, queues what the worker has not read, and flushes it
/// from the event loop when the socket turns writable.
final class UnitChannelEndTests: XCTestCase {
    private var host: HostChannelEnd!
    private var worker: WorkerChannelEnd!

    override func setUpWithError() throws {
        let (hostEnd, workerEnd) = try UnixSocket.seqpacketPair()
        host = HostChannelEnd(hostEnd, waits: false)
        worker = WorkerChannelEnd(workerEnd, waits: true)
    }

    override func tearDown() {
        host.close()
        worker.close()
    }

    /// A setup far larger than the socket's buffer, sent while nobody
    /// reads: the send returns at once with the rest queued; the loop then
    /// flushes it as the worker's end reads, and it arrives whole.
    func testTheHostQueuesWhatTheWorkerHasNotReadAndFlushesWhenWritable() throws {
        let setup = HostMessage.setup(WorkerSetup(config: UnitChannelTests.oddBytes(count: 3 << 20)))
        try host.send(setup)
        XCTAssertTrue(host.hasQueuedOutput, "3 MiB cannot fit a socket buffer; the rest must wait in the queue")

        let loop = try EventLoop()
        var hostReadable = 0
        try host.attach(to: loop) { hostReadable += 1 }
        var received: [HostMessage] = []
        var partialsSeen = 0
        try loop.register(worker.fd, .readable) { [worker] _ in
            // What the worker's event loop does: only what is ready.
            do {
                switch try worker!.receive(waiting: false) {
                case .message(let message, _)?: received.append(message); loop.stop()
                case nil: partialsSeen += 1
                case .closed?: XCTFail("closed"); loop.stop()
                }
            } catch {
                XCTFail("\(error)")
                loop.stop()
            }
        }
        loop.schedule(afterSeconds: 30) { XCTFail("the message never arrived whole"); loop.stop() }
        try loop.run()
        XCTAssertEqual(received, [setup])
        XCTAssertFalse(host.hasQueuedOutput)
        XCTAssertGreaterThan(partialsSeen, 0, "the worker's end saw the message arrive in parts")
        XCTAssertEqual(hostReadable, 0)
        loop.unregister(worker.fd)
    }

    /// The listening socket rides on a serve message of many datagrams,
    /// queued behind a setup the worker has not read, and comes out with
    /// it, usable.
    func testASocketPassedWithALargeMessageComesOutWithIt() throws {
        let setup = HostMessage.setup(WorkerSetup(config: UnitChannelTests.oddBytes(count: 1 << 20)))
        try host.send(setup)
        var serve = UnitChannelTests.serve
        serve.scopedTokens = (0..<5000).map { ScopedToken(bytes: Array("token-\($0)".utf8), scopes: ["read", "write \($0)"]) }
        var pipe: [Int32] = [0, 0]
        XCTAssertEqual(Glibc.pipe(&pipe), 0)
        let (readEnd, writeEnd) = (FileDescriptor(rawValue: pipe[0]), FileDescriptor(rawValue: pipe[1]))
        defer { readEnd.close() }
        try host.send(.serve(serve), passing: writeEnd)
        // The host may close its own copy at once: the queue holds another.
        writeEnd.close()
        var messages: [(HostMessage, FileDescriptor?)] = []
        while messages.count < 2 {
            try host.flush()
            if case .message(let received, let passed)? = try worker.receive(waiting: false) { messages.append((received, passed)) }
        }
        XCTAssertEqual(messages.map(\.0), [setup, .serve(serve)])
        XCTAssertNil(messages[0].1)
        let passed = try XCTUnwrap(messages[1].1)
        try passed.writeAll("through")
        passed.close()
        XCTAssertEqual(String(decoding: try readEnd.readAll(), as: UTF8.self), "through")
    }

    func testTheWorkersRepliesAndItsCloseReachTheHost() throws {
        try worker.send(.tokensApplied)
        try worker.send(.timeout(route: "GET /slow", limitMilliseconds: 2000))
        guard case .message(.tokensApplied, nil)? = try host.receive(waiting: false) else { return XCTFail() }
        guard case .message(.timeout("GET /slow", 2000), nil)? = try host.receive(waiting: false) else { return XCTFail() }
        XCTAssertNil(try host.receive(waiting: false))
        // Half a message, then the worker is gone: the half is dropped.
        let loaded = try ChannelCodec.datagrams(WorkerMessage.failed(reason: String(repeating: "x", count: 100_000)))
        for datagram in loaded.dropLast() { _ = try datagram.withUnsafeBytes { try UnixSocket.sendMessage(worker.fd, $0) } }
        XCTAssertNil(try host.receive(waiting: false))
        XCTAssertTrue(host.hasPartialInput)
        worker.close()
        guard case .closed? = try host.receive(waiting: false) else { return XCTFail() }
        XCTAssertFalse(host.hasPartialInput)
    }

    /// A datagram larger than the channel's is an error, never cut.
    func testAnOversizedDatagramIsAnErrorNotACut() throws {
        let big = [UInt8(ascii: "E")] + [UInt8](repeating: 0, count: ChannelProtocol.datagramBytes)
        _ = try big.withUnsafeBytes { try UnixSocket.sendMessage(worker.fd, $0) }
        XCTAssertThrowsError(try host.receive(waiting: false)) {
            XCTAssertEqual(($0 as? Errno)?.code, EMSGSIZE, "\($0)")
        }
    }

    /// A closed end refuses everything with an error that says so, never
    /// touching a descriptor number that may now be another file's.
    func testAClosedEndRefusesEverything() throws {
        host.close()
        XCTAssertThrowsError(try host.send(.tokens([]))) { XCTAssertEqual($0 as? ChannelError, .closed, "\($0)") }
        XCTAssertThrowsError(try host.flush()) { XCTAssertEqual($0 as? ChannelError, .closed, "\($0)") }
        XCTAssertThrowsError(try host.receive(waiting: false)) { XCTAssertEqual($0 as? ChannelError, .closed, "\($0)") }
        let loop = try EventLoop()
        XCTAssertThrowsError(try host.attach(to: loop) { XCTFail("a closed end was watched") }) {
            XCTAssertEqual($0 as? ChannelError, .closed)
            XCTAssertEqual("\($0)", "the channel is closed (the worker is stopping or gone); a new worker gets a new channel")
        }
    }

    /// An end dropped without close() closes its descriptor, exactly once.
    func testAnEndDroppedWithoutCloseClosesItsDescriptor() throws {
        let (one, other) = try UnixSocket.seqpacketPair()
        defer { other.close() }
        var end: HostChannelEnd? = HostChannelEnd(one, waits: false)
        XCTAssertNotEqual(fcntl(one.rawValue, F_GETFD), -1)
        end = nil
        XCTAssertNil(end)
        XCTAssertEqual(fcntl(one.rawValue, F_GETFD), -1, "the dropped end leaked its descriptor")
        XCTAssertEqual(errno, EBADF)
    }

    /// One read takes at most its budget (64 messages a wakeup on the host);
    /// the rest waits in the socket, whole, for the next one.
    func testAReadStopsAtItsBudgetAndTheNextTakesTheRest() throws {
        for _ in 0..<100 { try worker.send(.tokensApplied) }
        func drain(_ budget: ChannelReadBudget) throws -> Int {
            var budget = budget
            var count = 0
            while case .message(.tokensApplied, nil)? = try host.receive(waiting: false, within: &budget) { count += 1 }
            return count
        }
        XCTAssertEqual(ChannelReadBudget.perWakeup.messages, 64)
        XCTAssertEqual(try drain(.perWakeup), 64)
        XCTAssertEqual(try drain(.perWakeup), 36)
        XCTAssertEqual(try drain(.perWakeup), 0)

        // A budget spent halfway through a message keeps the part read.
        let long = WorkerMessage.failed(reason: String(repeating: "x", count: 100_000))
        try worker.send(long)
        var budget = ChannelReadBudget(messages: 64, datagrams: 2)
        XCTAssertNil(try host.receive(waiting: false, within: &budget))
        XCTAssertTrue(host.hasPartialInput)
        budget = .perWakeup
        guard case .message(long, nil)? = try host.receive(waiting: false, within: &budget) else { return XCTFail() }
    }

    /// What a worker sends is bounded tighter than what the host sends
    /// (the plugin's own code can write to the channel): the host's end
    /// refuses a message growing past 16 MiB, naming the limit.
    func testTheHostRefusesAWorkerMessageOverTheWorkersLimit() throws {
        let limit = ChannelProtocol.maximumWorkerMessageBytes
        XCTAssertEqual(limit, 16 << 20)
        let piece = [UInt8(ascii: "M")] + [UInt8](repeating: 0, count: ChannelProtocol.datagramBytes - 1)
        var refused: Error?
        var sent = 0
        while refused == nil, sent <= limit {
            _ = try piece.withUnsafeBytes { try UnixSocket.sendMessage(worker.fd, $0) }
            sent += piece.count - 1
            do {
                let received = try host.receive(waiting: false)
                XCTAssertNil(received)
            } catch {
                refused = error
            }
        }
        XCTAssertEqual(refused as? ChannelError, .tooLarge(kind: "incoming", bytes: sent, limit: limit))
        XCTAssertEqual(sent, (limit / (piece.count - 1) + 1) * (piece.count - 1), "refused at the first datagram past the limit")
        XCTAssertEqual(refused.map { "\($0)" }, "the incoming message is \(sent) bytes, over the channel's limit of \(limit) bytes (16 MiB)")
        XCTAssertFalse(host.hasPartialInput)
    }
}
