import BerthPOSIX

/// Answers requests on a server's connections. `handle` answers through
/// `reply`: it appends exactly one response line (ReplyContext.appendSuccess,
/// appendError or appendLine), or takes a DeferredReply and answers later.
public protocol RequestHandler: AnyObject {
    func handle(_ request: IncomingRequest, reply: borrowing ReplyContext)
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
