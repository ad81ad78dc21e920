/// What a watchdog needs to answer in place of a handler that never
/// returns (Host/Shims/watchdog.c): the connection's socket, and the
/// answers to earlier requests that are queued on it but not written yet,
/// which it must send first so the client still gets every answer in order.
/// Lent by ReplyContext.withUnsentOutput for the handler's call.
public struct UnsentOutput {
    /// The connection's socket (non-blocking).
    public let socket: Int32
    /// Queued, not yet written; empty when everything went out.
    public let bytes: UnsafeBufferPointer<UInt8>

    @inlinable
    init(socket: Int32, bytes: UnsafeBufferPointer<UInt8>) {
        self.socket = socket
        self.bytes = bytes
    }
}
