import BerthPOSIX
import Glibc

/// Serves the wire protocol on a listening socket: accepts connections,
/// frames and parses requests, answers protocol errors itself and passes
/// every well-formed request to a RequestHandler. Plugin workers and the
/// control socket both run on it.
public final class LineServer {
    public struct Limits {
        /// A request larger than this is answered 413 and the connection closed.
        public var maxRequestBytes = 1 << 20
        /// Stop reading from a client whose unread answers exceed this.
        public var maxPendingOutput = 4 << 20
        public init() {}
    }

    private let loop: EventLoop
    private let listener: FileDescriptor
    private let handler: RequestHandler
    private let limits: Limits
    private var connections: [Int32: Connection] = [:]
    private var accepting = false
    private var onDrained: (() -> Void)?

    public init(loop: EventLoop, listener: FileDescriptor, handler: RequestHandler, limits: Limits = Limits()) {
        self.loop = loop
        self.listener = listener
        self.handler = handler
        self.limits = limits
    }

    public var connectionCount: Int { connections.count }

    public func start() throws {
        try listener.setNonBlocking()
        try loop.register(listener, .readable) { [unowned self] _ in self.acceptPending() }
        accepting = true
    }

    /// Stops accepting, lets queued requests be answered, closes connections
    /// as they go idle, and calls `done` when none is left.
    public func drain(_ done: @escaping () -> Void) {
        stopAccepting()
        onDrained = done
        for connection in Array(connections.values) where connection.isIdle {
            close(connection)
        }
        checkDrained()
    }

    public func stopAccepting() {
        guard accepting else { return }
        accepting = false
        loop.unregister(listener)
    }

    /// Closes every connection now (end of a bounded drain).
    public func closeAll() {
        for connection in Array(connections.values) { close(connection) }
    }

    private func checkDrained() {
        if connections.isEmpty, let done = onDrained {
            onDrained = nil
            done()
        }
    }

    private func acceptPending() {
        while accepting {
            let accepted: FileDescriptor?
            do {
                accepted = try UnixSocket.accept(listener)
            } catch {
                // EMFILE and friends: log and retry on the next event rather
                // than spinning; the listener stays readable.
                Log.error("\(error); new connections wait until a connection closes")
                return
            }
            guard let fd = accepted else { return }
            let connection = Connection(fd: fd)
            connections[fd.rawValue] = connection
            do {
                try loop.register(fd, .readable) { [unowned self, unowned connection] events in
                    self.service(connection, events)
                }
            } catch {
                connections[fd.rawValue] = nil
                fd.close()
            }
        }
    }

    private func service(_ connection: Connection, _ events: EventLoop.Events) {
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
        let space = connection.input.reserve(minimum: 4096, limit: limits.maxRequestBytes + 65536)
        guard !space.isEmpty else { return tooLarge(connection) }
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
            if let frame = connection.framer.finishAtEndOfStream(connection.input.unconsumed) {
                answer(connection, frame)
            }
            connection.closeAfterFlush = true
            return
        }
        connection.input.commit(n)
        while connection.pendingOutput < limits.maxPendingOutput,
              let frame = connection.framer.next(connection.input.unconsumed) {
            answer(connection, frame)
            if connection.closeAfterFlush { return }
        }
        if connection.input.count > limits.maxRequestBytes { tooLarge(connection) }
    }

    private func answer(_ connection: Connection, _ frame: RequestFramer.Frame) {
        if frame.length > limits.maxRequestBytes { return tooLarge(connection) }
        let bytes = UnsafeBufferPointer(rebasing: connection.input.unconsumed[0..<frame.length])
        if !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            dispatch(bytes, &connection.output)
        }
        connection.input.consume(frame.consumed)
    }

    private func dispatch(_ frame: UnsafeBufferPointer<UInt8>, _ output: inout [UInt8]) {
        switch RequestEnvelope.parse(frame) {
        case .failure(let invalid):
            let id = invalid.id.map { UnsafeBufferPointer(rebasing: frame[$0]) }
            ResponseWriter.appendError(&output, id: id, status: 400, code: invalid.code, message: invalid.message)
        case .success(let envelope):
            var pathScratch: [UInt8] = []
            var tokenScratch: [UInt8] = []
            if let path = envelope.path, path.hasEscapes { pathScratch = RequestEnvelope.decoded(path, in: frame) }
            if let token = envelope.authToken, token.hasEscapes { tokenScratch = RequestEnvelope.decoded(token, in: frame) }
            pathScratch.withUnsafeBufferPointer { decodedPath in
                tokenScratch.withUnsafeBufferPointer { decodedToken in
                    let fullPath = envelope.path!.hasEscapes ? decodedPath : UnsafeBufferPointer(rebasing: frame[envelope.path!.range])
                    let token = envelope.authToken.map {
                        $0.hasEscapes ? decodedToken : UnsafeBufferPointer(rebasing: frame[$0.range])
                    }
                    var path = fullPath
                    var query = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
                    if let mark = fullPath.firstIndex(of: UInt8(ascii: "?")) {
                        path = UnsafeBufferPointer(rebasing: fullPath[..<mark])
                        query = UnsafeBufferPointer(rebasing: fullPath[(mark + 1)...])
                    }
                    let request = Request(
                        method: envelope.httpMethod(in: frame), path: path, query: query, authToken: token,
                        data: envelope.data.map { UnsafeBufferPointer(rebasing: frame[$0]) },
                        id: envelope.id.map { UnsafeBufferPointer(rebasing: frame[$0]) },
                        headers: envelope.headers.map { UnsafeBufferPointer(rebasing: frame[$0]) })
                    handler.handle(request, into: &output)
                }
            }
        }
    }

    private func tooLarge(_ connection: Connection) {
        ResponseWriter.appendError(&connection.output, id: nil, status: 413, code: "request_too_large",
                                   message: "request exceeds the limit of \(limits.maxRequestBytes) bytes; send a smaller request or raise the limit (berth serve --max-request-bytes)")
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
        if connection.discardingInput && connection.pendingOutput == 0 {
            return lingerThenClose(connection)
        }
        if connection.pendingOutput == 0 && (connection.closeAfterFlush || (onDrained != nil && connection.isIdle)) {
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
        // Frames left unanswered because output was full: answer them once
        // the client has read.
        if wantsRead && !wantsWrite && connection.input.count > 0 && connection.framer.scanned < connection.input.count {
            readAndAnswerBuffered(connection)
        }
    }

    private func readAndAnswerBuffered(_ connection: Connection) {
        while connection.pendingOutput < limits.maxPendingOutput,
              let frame = connection.framer.next(connection.input.unconsumed) {
            answer(connection, frame)
        }
        if connection.pendingOutput > 0 { afterWork(connection) }
    }

    private func lingerThenClose(_ connection: Connection) {
        shutdown(connection.fd.rawValue, Int32(SHUT_WR))
        loop.modify(connection.fd, .readable)
        connection.watchingWritable = false
        let fd = connection.fd.rawValue
        loop.schedule(afterSeconds: 2) { [weak self, weak connection] in
            guard let self, let connection, self.connections[fd] === connection else { return }
            self.close(connection)
        }
    }

    private func close(_ connection: Connection) {
        loop.unregister(connection.fd)
        connection.fd.close()
        connections[connection.fd.rawValue] = nil
        checkDrained()
    }
}
