import BerthPOSIX
import BerthSupport
import Glibc

/// Serves the wire protocol on a listening socket: accepts connections,
/// frames and parses requests, answers protocol errors itself and passes
/// every well-formed request to a RequestHandler. Plugin workers and the
/// control socket both run on it.
public final class LineServer {
    private let loop: EventLoop
    private let listener: FileDescriptor
    let handler: RequestHandler
    let limits: Limits
    /// Tags this server's log lines: the plugin's name in a worker, nil on
    /// the host's control socket.
    private let name: String?
    private var connections = ConnectionTable()
    private var pool = ConnectionPool()
    /// What the connections' input buffers may hold together.
    private let inputBudget: InputBudget
    private var accepting = false
    private var onDrained: (() -> Void)?

    private let sweep: ConnectionSweep
    private var sweepArmed = false
    private var report = SweepReport()
    /// Held so that, out of descriptors, a pending connection can still be
    /// accepted, told why and closed rather than left in the backlog.
    private var spareDescriptor: FileDescriptor?
    private var acceptPaused = false
    private let tooManyConnectionsLine: [UInt8]
    private let ownerUID = geteuid()

    public init(loop: EventLoop, listener: FileDescriptor, handler: RequestHandler, limits: Limits = Limits(), name: String? = nil) {
        self.loop = loop
        self.listener = listener
        self.handler = handler
        self.limits = limits
        self.name = name
        sweep = ConnectionSweep(limits)
        inputBudget = InputBudget(limit: limits.maxBufferedInput)
        var line: [UInt8] = []
        // Say which socket is full: the control socket's limit is fixed.
        let message = name == nil
            ? "the control socket is full (\(limits.maxConnections) connections, its fixed limit, the last \(limits.reservedForOwner) kept for berth's own user and root); retry later, and close connections to it that are not in use"
            : "this worker already serves \(limits.maxConnections) connections, its limit; retry later, reuse a connection, or raise the limit (berth serve --max-connections, or max_connections in the plugin's settings)"
        ResponseWriter.appendError(&line, id: nil, status: 503, code: "too_many_connections", message: message)
        tooManyConnectionsLine = line
    }

    /// Connections do not retain their server (Connection.server): none
    /// may stay registered with the loop after it.
    deinit {
        for connection in connections.values {
            loop.forget(connection.fd)
            connection.close()
        }
        spareDescriptor?.close()
    }

    public var connectionCount: Int { connections.count }
    private var draining: Bool { onDrained != nil }

    public func start() throws {
        try listener.setNonBlocking()
        try loop.register(listener, .readable) { [unowned self] _ in self.acceptPending() }
        accepting = true
        spareDescriptor = try? FileDescriptor.open("/dev/null", O_RDONLY)
    }

    /// Stops accepting and winds connections down without failing a request
    /// a client could not retry:
    /// - a connection that has not been answered yet is served until its
    ///   first answer (a one-shot client sent its request already);
    /// - a connection that has been answered before gets the answers to what
    ///   was read, and is closed without reading more; its client retries on
    ///   a new connection, as HTTP clients do when a server closes an idle
    ///   keep-alive connection.
    /// Calls `done` once no connection is left.
    public func drain(_ done: @escaping () -> Void) {
        stopAccepting()
        onDrained = done
        for connection in connections.values { afterWork(connection) }
        checkDrained()
    }

    public func stopAccepting() {
        guard accepting else { return }
        accepting = false
        loop.unregister(listener)
    }

    /// Closes every connection now (end of a bounded drain).
    public func closeAll() {
        for connection in connections.values { close(connection) }
    }

    /// Answers a connection's deferred request (DeferredReply), then serves
    /// the requests that waited behind it. `ticket` is the connection's
    /// answer count when the reply was promised.
    func complete(_ connection: Connection, ticket: Int, _ write: @escaping (inout [UInt8]) -> Void) {
        guard connections[connection.fd.rawValue] === connection, connection.answered == ticket else { return }
        switch connection.replyState {
        case .immediate:
            return
        case .deferredWhileHandling:
            // Answered before `handle` even returned: finish after it has.
            // The connection strongly (see ConnectionPool), the server
            // through it: nil if it closed meanwhile.
            loop.schedule(afterSeconds: 0) { [connection] in
                connection.server?._withUnsafeGuaranteedRef { $0.complete(connection, ticket: ticket, write) }
            }
        case .deferred:
            connection.replyState = .immediate
            write(&connection.output)
            connection.answered += 1
            answerBuffered(connection)
            afterWork(connection)
        }
    }

    private func checkDrained() {
        if connections.isEmpty, let done = onDrained {
            onDrained = nil
            done()
        }
    }

    /// Accepts at most a batch per turn of the loop (the listener stays
    /// readable for the rest): under a flood of short connections, the
    /// closes of those already accepted are seen before more pile up.
    private func acceptPending() {
        var batch = 0
        while accepting && batch < 128 {
            batch += 1
            let accepted: FileDescriptor?
            do {
                accepted = try UnixSocket.accept(listener)
            } catch let error as Errno where error.code == EMFILE || error.code == ENFILE {
                if refuseWithSpareDescriptor() { continue }
                return pauseAccepting(error)
            } catch {
                return pauseAccepting(error)
            }
            guard let fd = accepted else { return }
            // Peer credentials are read before the slot is given only when
            // the slots left are those kept for the owner.
            var peer: PeerCredentials?
            if connections.count >= limits.maxConnections - limits.reservedForOwner {
                let credentials = PeerCredentials.of(fd)
                peer = credentials
                if connections.count >= limits.maxConnections || !isOwner(credentials) {
                    refuse(fd, tooManyConnectionsLine)
                    report.refused += 1
                    continue
                }
            }
            armSweep()
            let connection = pool.take(budget: inputBudget)
            connection.open(fd, on: self)
            connections[fd.rawValue] = connection
            do {
                try loop.register(fd, .readable, connection)
            } catch {
                connections[fd.rawValue] = nil
                connection.close()
                continue
            }
            connection.peer = peer ?? PeerCredentials.of(fd)
            if let refusal = handler.refusal(for: connection.peer) {
                // Answer, then read and drop what the client sends until it
                // closes (as after a 413), so it gets to read the answer.
                ResponseWriter.appendError(&connection.output, id: nil, status: refusal.status, code: refusal.code, message: refusal.message)
                connection.closeAfterFlush = true
                connection.discardingInput = true
                afterWork(connection)
            }
        }
    }

    /// Root, or the user this server runs as: who may take the slots kept
    /// by `Limits.reservedForOwner`.
    private func isOwner(_ peer: PeerCredentials) -> Bool {
        peer.uid == 0 || peer.uid == ownerUID
    }

    func service(_ connection: Connection, _ events: EventLoop.Events) {
        if events.contains(.writable) || connection.watchingWritable {
            guard connection.flush() else { return close(connection) }
        }
        if connection.discardingInput {
            return discard(connection)
        }
        if events.contains(.readable) || events.contains(.hangup), !connection.closeAfterFlush {
            readAndAnswer(connection)
        }
        afterWork(connection)
    }

    private func readAndAnswer(_ connection: Connection) {
        let bufferLimit = limits.maxRequestBytes + 65536
        let space = connection.input.reserve(minimum: 4096, limit: bufferLimit)
        guard !space.isEmpty else {
            return connection.input.isAtLimit(bufferLimit) ? tooLarge(connection) : inputBuffersFull(connection)
        }
        let n = Glibc.read(connection.fd.rawValue, space.baseAddress, space.count)
        if n < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            connection.closeAfterFlush = true
            connection.output.removeAll()
            connection.outputSent = 0
            return
        }
        if n == 0 {
            // The client finished sending (it may still read): answer what
            // it sent, then close.
            if !connection.awaitingReply, let frame = connection.framer.finishAtEndOfStream(connection.input.unconsumed) {
                answer(connection, frame)
                handler.finishBatch()
            }
            connection.closeAfterFlush = true
            return
        }
        connection.input.commit(n)
        connection.receivedAt = Clock.monotonicNanoseconds()
        answerBuffered(connection)
        // Only a partial request this large is too large: complete ones
        // wait here while the client is not reading its answers.
        if connection.input.count > limits.maxRequestBytes && !connection.awaitingReply
            && connection.pendingOutput < limits.maxPendingOutput {
            tooLarge(connection)
        }
    }

    /// Answers the complete requests already read, in order, until output
    /// backs up or a handler defers its answer.
    private func answerBuffered(_ connection: Connection) {
        defer { handler.finishBatch() }
        while !connection.awaitingReply, !connection.closeAfterFlush,
              connection.pendingOutput < limits.maxPendingOutput {
            let pending = connection.input.unconsumed
            var envelope = RequestEnvelope()
            // A request that arrived whole is framed and parsed in one walk;
            // anything else (a request arriving in pieces, or one the fast
            // path cannot vouch for) goes through the framer first.
            if connection.framer.scanned == 0,
               let parsed = RequestEnvelope.parseLeadingObject(pending, into: &envelope) {
                if parsed.frame.length > limits.maxRequestBytes { return tooLarge(connection) }
                serve(connection, UnsafeBufferPointer(rebasing: pending[0..<parsed.frame.length]), envelope, parsed.invalid)
                connection.input.consume(parsed.frame.consumed)
            } else if let frame = connection.framer.next(pending) {
                answer(connection, frame)
            } else {
                return
            }
        }
    }

    func tooLarge(_ connection: Connection) {
        refuse(connection, status: 413, code: "request_too_large",
               message: "request exceeds the limit of \(limits.maxRequestBytes) bytes; send a smaller request or raise the limit (berth serve --max-request-bytes, or max_request_bytes in the plugin's settings)")
    }

    /// The server's connections hold as much unfinished input as it allows
    /// (Limits.maxBufferedInput): this one, whose request needs more, is
    /// refused; the line in the log comes with the next sweep.
    private func inputBuffersFull(_ connection: Connection) {
        refuse(connection, status: 503, code: "input_buffers_full",
               message: "\(name == nil ? "the control socket" : "this worker") already holds \(limits.maxBufferedInput >> 20) MiB of unfinished requests from its clients, its limit; send each request whole and promptly, and retry later"
                   + (name == nil ? "" : "; its operator can raise the limit (berth serve --max-buffered-input-mb, or max_buffered_input_mb in the plugin's settings)"))
        report.refusedForBufferedInput += 1
        armSweep()
    }

    /// Answers an error for the request being read, then drops the rest
    /// of the client's input and closes (see discard, lingerThenClose).
    private func refuse(_ connection: Connection, status: Int, code: String, message: String) {
        ResponseWriter.appendError(&connection.output, id: nil, status: status, code: code, message: message)
        connection.input.consume(connection.input.count)
        connection.framer = RequestFramer()
        connection.closeAfterFlush = true
        connection.discardingInput = true
    }

    /// Reads and drops input until the client closes or a deadline passes.
    private func discard(_ connection: Connection) {
        var scratch = [UInt8](repeating: 0, count: 65536)
        let n = scratch.withUnsafeMutableBytes { Glibc.read(connection.fd.rawValue, $0.baseAddress, $0.count) }
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { close(connection) }
    }

    private func afterWork(_ connection: Connection) {
        guard connection.flush() else { return close(connection) }
        if draining && connection.answered > 0 && !connection.awaitingReply {
            connection.closeAfterFlush = true
        }
        if connection.discardingInput && connection.pendingOutput == 0 {
            return lingerThenClose(connection)
        }
        if connection.pendingOutput == 0 && !connection.awaitingReply && connection.closeAfterFlush {
            return close(connection)
        }
        let wantsWrite = connection.pendingOutput > 0
        // A client that does not read its answers stops being read from.
        let wantsRead = !connection.closeAfterFlush && connection.pendingOutput < limits.maxPendingOutput
        var events: EventLoop.Events = []
        if wantsRead { events.insert(.readable) }
        if wantsWrite { events.insert(.writable) }
        if wantsWrite != connection.watchingWritable || !wantsRead {
            connection.watchingWritable = wantsWrite
            loop.modify(connection.fd, events)
        }
        // Requests left unanswered while output was backed up: answer them
        // now that the client has read.
        if wantsRead && !wantsWrite && !connection.awaitingReply && connection.framer.scanned < connection.input.count {
            answerBuffered(connection)
            if connection.pendingOutput > 0 { afterWork(connection) }
        }
    }

    private func lingerThenClose(_ connection: Connection) {
        shutdown(connection.fd.rawValue, Int32(SHUT_WR))
        loop.modify(connection.fd, .readable)
        connection.watchingWritable = false
        let fd = connection.fd.rawValue
        // The connection strongly: see ConnectionPool.
        loop.schedule(afterSeconds: 2) { [weak self, connection] in
            guard let self, self.connections[fd] === connection else { return }
            self.close(connection)
        }
    }

    /// The last use of `connection` until the pool hands it out again.
    private func close(_ connection: Connection) {
        loop.forget(connection.fd)
        connections[connection.fd.rawValue] = nil
        connection.close()
        pool.recycle(connection)
        if acceptPaused { resumeAccepting() }
        checkDrained()
    }

    // MARK: Connections the server will not serve

    /// One write into the fresh socket's empty buffer always fits the line.
    private func refuse(_ fd: FileDescriptor, _ line: [UInt8]) {
        line.withUnsafeBytes { _ = Glibc.write(fd.rawValue, $0.baseAddress, $0.count) }
        fd.close()
        armSweep()
    }

    /// Out of descriptors: frees the spare one to accept a pending client
    /// and tell it why, so it is not left waiting in the backlog. False
    /// when there is no spare (it could not be taken back last time).
    private func refuseWithSpareDescriptor() -> Bool {
        guard let spare = spareDescriptor else { return false }
        spare.close()
        spareDescriptor = nil
        if let fd = try? UnixSocket.accept(listener) {
            var line: [UInt8] = []
            ResponseWriter.appendError(&line, id: nil, status: 503, code: "too_many_connections",
                                       message: "\(name == nil ? "the control socket" : "this worker") has no file descriptors left for another connection; retry later")
            refuse(fd, line)
            report.refusedForDescriptors += 1
        }
        spareDescriptor = try? FileDescriptor.open("/dev/null", O_RDONLY)
        return spareDescriptor != nil
    }

    /// accept(2) failed and no spare descriptor is left to answer with: the
    /// listener, still readable, would wake the loop at once forever, so it
    /// is not watched until a connection closes or the next sweep.
    private func pauseAccepting(_ error: Error) {
        Log.error("\(error); new connections wait until a connection closes", plugin: name)
        acceptPaused = true
        loop.modify(listener, [])
        armSweep()
    }

    private func resumeAccepting() {
        acceptPaused = false
        guard accepting else { return }
        if spareDescriptor == nil { spareDescriptor = try? FileDescriptor.open("/dev/null", O_RDONLY) }
        loop.modify(listener, .readable)
    }

    // MARK: Timeouts

    /// At most one timer, and only while there are connections to watch.
    private func armSweep() {
        guard !sweepArmed else { return }
        sweepArmed = true
        loop.schedule(afterSeconds: sweep.interval) { [weak self] in self?.sweepConnections() }
    }

    private func sweepConnections() {
        sweepArmed = false
        if acceptPaused { resumeAccepting() }
        let now = Clock.monotonicNanoseconds()
        var late: [Connection] = []
        var idle: [Connection] = []
        for connection in connections.values {
            switch sweep.check(connection, now: now) {
            case .keep: break
            case .requestTimedOut: late.append(connection)
            case .idle: idle.append(connection)
            }
        }
        for connection in late {
            refuse(connection, status: 408, code: "read_timeout",
                   message: "the request was not complete \(SweepReport.seconds(limits.readTimeout)) after its first byte; send each request whole, or raise the deadline (berth serve --read-timeout, or read_timeout in the plugin's settings)")
            afterWork(connection)
        }
        for connection in idle where connections[connection.fd.rawValue] === connection { close(connection) }
        report.timedOut += late.count
        report.closedIdle += idle.count
        report.log(limits, name: name)
        report = SweepReport()
        if !connections.isEmpty || acceptPaused { armSweep() }
    }
}
