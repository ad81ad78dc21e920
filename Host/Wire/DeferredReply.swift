import BerthPOSIX

/// An answer a handler gives after `handle` returned (the control socket's
/// POST /reload answers when the reload is over).
public final class DeferredReply {
    private weak var server: LineServer?
    /// Strongly: a weakly held connection could be reused for another
    /// client while this reply still points at it (see ConnectionPool).
    private let connection: Connection
    private let id: [UInt8]?

    init(server: LineServer, connection: Connection, id: [UInt8]?) {
        self.server = server
        self.connection = connection
        self.id = id
    }

    public func succeed(status: Int, body: [UInt8]) {
        send { output, id in body.withUnsafeBytes { ResponseWriter.appendSuccess(&output, id: id, status: status, data: $0) } }
    }

    public func fail(status: Int, code: String, message: String) {
        send { output, id in ResponseWriter.appendError(&output, id: id, status: status, code: code, message: message) }
    }

    private func send(_ write: @escaping (inout [UInt8], UnsafeBufferPointer<UInt8>?) -> Void) {
        guard let server else { return }
        let id = self.id
        server.complete(connection) { output in
            if let id {
                id.withUnsafeBufferPointer { write(&output, $0) }
            } else {
                write(&output, nil)
            }
        }
    }
}
