import BerthPOSIX

/// One parsed request as a handler sees it. Every buffer points into the
/// connection's input and is valid only during the handler call: a handler
/// that answers later (ReplyContext.deferReply) copies what it keeps.
///
/// Named apart from the SDK's `Request` and the C `berth_request`, which
/// are what a plugin sees; this is what the server hands a RequestHandler.
/// Where the answer goes is not part of it: see ReplyContext.
public struct IncomingRequest {
    public var method: HTTPMethod
    /// The path up to '?'.
    public var path: UnsafeBufferPointer<UInt8>
    /// What followed '?', undecoded; empty when none.
    public var query: UnsafeBufferPointer<UInt8>
    public var authToken: UnsafeBufferPointer<UInt8>?
    /// Raw JSON of "data", "id" and "headers" (nil when absent).
    public var data: UnsafeBufferPointer<UInt8>?
    public var id: UnsafeBufferPointer<UInt8>?
    public var headers: UnsafeBufferPointer<UInt8>?
    /// The request had a raw line break between tokens, so `data` may too.
    public var spansLines = false
    /// CLOCK_MONOTONIC nanoseconds when the read that brought it returned.
    public var receivedAt: UInt64 = 0
    /// The client, as the kernel reported it when the connection was
    /// accepted (read once per connection).
    public var peer = PeerCredentials.unknown

    public var pathString: String { String(decoding: path, as: UTF8.self) }
}
