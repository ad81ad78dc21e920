/// Where the answer to a connection's current request stands.
enum ReplyState: UInt8 {
    /// The handler answers before it returns, as almost every one does.
    case immediate
    /// The handler took a DeferredReply and is still running: a reply
    /// completed now waits until `handle` has returned (LineServer.complete).
    case deferredWhileHandling
    /// The handler returned without answering; the connection's later
    /// requests wait for the DeferredReply.
    case deferred
}
