import BerthPOSIX
import Glibc

/// One client connection: reads frames, hands each request to the handler
/// in order, and writes the answers back in the same order (pipelining).
///
/// A closed connection, object and buffers, serves a later one (see
/// ConnectionPool and `open`): a client that connects for each request
/// (the seed's client does) would otherwise cost two objects, a 4 KiB
/// buffer and an array from malloc and back per connection.
///
/// Usable from inlinable code for ReplyContext's per-request calls, which
/// other modules' handlers make on the request path.
@usableFromInline
final class Connection: EventHandler {
    @usableFromInline
    private(set) var fd = FileDescriptor(rawValue: -1)
    let input: InputBuffer
    @usableFromInline
    var output: [UInt8] = []
    /// The server this connection is open on; nil while it waits in the pool.
    /// Not retained, not even for an event: the server closes its
    /// connections before it goes (LineServer.deinit), and timers' weak
    /// references give it a side table, which makes each retain and release
    /// of it a slow one (~170 instructions an event).
    private(set) var server: Unmanaged<LineServer>?
    var framer = RequestFramer()
    @usableFromInline
    var outputSent = 0
    /// No more requests will be read: flush what is queued, then close.
    var closeAfterFlush = false
    var watchingWritable = false
    /// After a 413: the answer is sent, the rest of the client's request is
    /// read and dropped (so the client, still sending, gets to read the
    /// answer instead of a reset), then the connection closes.
    var discardingInput = false
    /// Requests answered on this connection so far.
    var answered = 0
    /// Whether the request being served is answered by its handler's
    /// return or later, through a DeferredReply.
    var replyState = ReplyState.immediate
    /// When the last read returned (one clock read per batch of requests).
    var receivedAt: UInt64 = 0
    /// The client's credentials, read once at accept (SO_PEERCRED).
    var peer = PeerCredentials.unknown

    // What the last ConnectionSweep pass saw; 0 times are "not seen yet".
    var sweepAnswered = 0
    var sweepSent = 0
    /// The last traffic either way.
    var progressAt: UInt64 = 0
    /// When the request being read was first seen unfinished.
    var requestSince: UInt64 = 0

    /// `budget`: the server's, which the input buffer's growth is charged to.
    init(budget: InputBudget = InputBudget()) {
        input = InputBuffer(budget: budget)
    }

    /// Starts serving `fd`, new or after a connection that closed: every
    /// stored property above except the buffers (emptied by `close`) is
    /// set here (UnitConnectionPoolTests.testAReopenedConnectionStartsAfresh
    /// lists them).
    func open(_ fd: FileDescriptor, on server: LineServer) {
        self.fd = fd
        self.server = Unmanaged.passUnretained(server)
        framer = RequestFramer()
        outputSent = 0
        closeAfterFlush = false
        watchingWritable = false
        discardingInput = false
        answered = 0
        replyState = .immediate
        receivedAt = 0
        peer = .unknown
        sweepAnswered = 0
        sweepSent = 0
        progressAt = 0
        requestSince = 0
    }

    /// The connection's last use until it is opened again: its buffers are
    /// emptied, keeping their memory unless it is large (InputBuffer).
    func close() {
        fd.close()
        server = nil
        input.reset()
        if !output.isEmpty { output.removeAll(keepingCapacity: true) }
    }

    @usableFromInline
    func handleEvents(_ events: EventLoop.Events) {
        server?._withUnsafeGuaranteedRef { $0.service(self, events) }
    }

    var pendingOutput: Int { output.count - outputSent }

    /// A handler will answer the current request later (DeferredReply):
    /// later requests wait, so answers stay in order.
    var awaitingReply: Bool { replyState != .immediate }

    /// Writes as much queued output as the socket takes. Returns false when
    /// the peer is gone.
    func flush() -> Bool {
        while outputSent < output.count {
            let n = output.withUnsafeBytes { Glibc.write(fd.rawValue, $0.baseAddress! + outputSent, $0.count - outputSent) }
            if n > 0 {
                outputSent += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
            return false
        }
        output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
        outputSent = 0
        return true
    }
}
