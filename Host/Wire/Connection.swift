import BerthPOSIX
import Glibc

/// One client connection: reads frames, hands each request to the handler
/// in order, and writes the answers back in the same order (pipelining).
final class Connection {
    let fd: FileDescriptor
    let input: InputBuffer
    var framer = RequestFramer()
    var output: [UInt8]
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
    /// A handler will answer the current request later (DeferredReply);
    /// later requests wait so answers stay in order.
    var awaitingReply = false
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

    /// `buffers` come empty from a closed connection (ConnectionBuffers),
    /// or new.
    init(fd: FileDescriptor, buffers: ConnectionBuffers.Pair) {
        self.fd = fd
        input = buffers.input
        output = buffers.output
    }

    var pendingOutput: Int { output.count - outputSent }

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
