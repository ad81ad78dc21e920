import BerthPOSIX

/// One parsed request as a handler sees it. Every buffer points into the
/// connection's input and is valid only during the handler call.
public struct Request {
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
    /// The connection's socket, and how much of the output the handler
    /// appends to is already written to it: what a watchdog needs to answer
    /// in the handler's place if it never returns.
    public var connection: Int32 = -1
    public var outputSent = 0
    /// The client, as the kernel reported it when the connection was
    /// accepted (read once per connection).
    public var peer = PeerCredentials.unknown

    public var pathString: String { String(decoding: path, as: UTF8.self) }
}

/// Answers requests on a server's connections. `handle` appends exactly one
/// response line to `output` (ResponseWriter does the formatting).
public protocol RequestHandler: AnyObject {
    func handle(_ request: Request, into output: inout [UInt8])
    /// The requests of one read have all been handled (a place to do once
    /// per batch what need not be done per request).
    func finishBatch()
    /// Asked once per accepted connection. An answer is sent as the
    /// connection's only line, and the connection is closed.
    func refusal(for peer: PeerCredentials) -> Refusal?
}

extension RequestHandler {
    public func finishBatch() {}
    public func refusal(for peer: PeerCredentials) -> Refusal? { nil }
}

/// Why a server will not serve a client at all (an error answer's parts).
public struct Refusal {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }
}
