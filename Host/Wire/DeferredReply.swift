import BerthPOSIX

/// An answer a handler gives after `handle` returned (ReplyContext.deferReply):
/// the control socket's POST /reload answers when the reload is over.
/// Completing it writes the answer in its request's place in the
/// connection's output, then serves the requests that waited behind it.
///
/// The first completion answers; later ones do nothing, as does one made
/// after the connection closed (the client went, or the server closed it),
/// even if another client has since been given the connection's descriptor
/// number.
public final class DeferredReply {
    /// Strongly: a weakly held connection could be reused for another
    /// client while this reply still points at it (see ConnectionPool).
    /// Its server is reached through it (Connection.server), which is nil
    /// once the connection closed.
    private let connection: Connection
    private let id: [UInt8]?
    /// The connection's answer count when the reply was promised: once the
    /// reply is answered the count has moved on, so a second completion
    /// cannot answer a later request in its place.
    private let ticket: Int

    init(_ connection: Connection, id: [UInt8]?) {
        self.connection = connection
        self.id = id
        ticket = connection.answered
    }

    public func succeed(status: Int, body: [UInt8]) {
        send { output, id in body.withUnsafeBytes { ResponseWriter.appendSuccess(&output, id: id, status: status, data: $0) } }
    }

    public func fail(status: Int, code: String, message: String) {
        send { output, id in ResponseWriter.appendError(&output, id: id, status: status, code: code, message: message) }
    }

    private func send(_ write: @escaping (inout [UInt8], UnsafeBufferPointer<UInt8>?) -> Void) {
        guard let server = connection.server else { return }
        let id = self.id
        server._withUnsafeGuaranteedRef {
            $0.complete(connection, ticket: ticket) { output in
                if let id {
                    id.withUnsafeBufferPointer { write(&output, $0) }
                } else {
                    write(&output, nil)
                }
            }
        }
    }
}
