import BerthPOSIX

/// From a frame to a handler call: parse (unless the one-walk path already
/// did), answer protocol errors, decode an escaped path or token, and build
/// the IncomingRequest the handler sees, pointing into the connection's
/// input, and the ReplyContext it answers through.
extension LineServer {
    func answer(_ connection: Connection, _ frame: RequestFramer.Frame) {
        if frame.length > limits.maxRequestBytes { return tooLarge(connection) }
        let bytes = UnsafeBufferPointer(rebasing: connection.input.unconsumed[0..<frame.length])
        if !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            var envelope = RequestEnvelope()
            let invalid = RequestEnvelope.parse(bytes, into: &envelope)
            serve(connection, bytes, envelope, invalid)
        }
        connection.input.consume(frame.consumed)
    }

    func serve(_ connection: Connection, _ frame: UnsafeBufferPointer<UInt8>, _ envelope: RequestEnvelope,
               _ invalid: RequestEnvelope.Invalid?) {
        dispatch(connection, frame, envelope, invalid)
        switch connection.replyState {
        case .immediate: connection.answered += 1
        // The handler returned; its DeferredReply answers from now on.
        case .deferredWhileHandling: connection.replyState = .deferred
        // Not reached: a connection waiting for a reply serves no request.
        case .deferred: break
        }
    }

    private func dispatch(_ connection: Connection, _ frame: UnsafeBufferPointer<UInt8>, _ envelope: RequestEnvelope,
                          _ invalid: RequestEnvelope.Invalid?) {
        if let invalid {
            let id = invalid.id.map { UnsafeBufferPointer(rebasing: frame[$0]) }
            ResponseWriter.appendError(&connection.output, id: id, status: 400, code: invalid.code, message: invalid.message)
            return
        }
        if envelope.path!.hasEscapes || envelope.authToken?.hasEscapes == true {
            return dispatchDecoded(connection, frame, envelope)
        }
        handle(connection, frame, envelope, path: UnsafeBufferPointer(rebasing: frame[envelope.path!.range]),
               token: envelope.authToken.map { UnsafeBufferPointer(rebasing: frame[$0.range]) })
    }

    /// The rare request whose path or token has JSON escapes: decoded copies,
    /// whose pointers are only used inside their closures.
    private func dispatchDecoded(_ connection: Connection, _ frame: UnsafeBufferPointer<UInt8>, _ envelope: RequestEnvelope) {
        let path = RequestEnvelope.decoded(envelope.path!, in: frame)
        let token = envelope.authToken.map { RequestEnvelope.decoded($0, in: frame) } ?? []
        path.withUnsafeBufferPointer { decodedPath in
            token.withUnsafeBufferPointer { decodedToken in
                handle(connection, frame, envelope, path: decodedPath, token: envelope.authToken == nil ? nil : decodedToken)
            }
        }
    }

    private func handle(_ connection: Connection, _ frame: UnsafeBufferPointer<UInt8>, _ envelope: RequestEnvelope,
                        path fullPath: UnsafeBufferPointer<UInt8>, token: UnsafeBufferPointer<UInt8>?) {
        var path = fullPath
        var query = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        if let mark = fullPath.firstIndex(of: UInt8(ascii: "?")) {
            path = UnsafeBufferPointer(rebasing: fullPath[..<mark])
            query = UnsafeBufferPointer(rebasing: fullPath[(mark + 1)...])
        }
        let id = envelope.id.map { UnsafeBufferPointer(rebasing: frame[$0]) }
        let request = IncomingRequest(
            method: envelope.httpMethod(in: frame), path: path, query: query, authToken: token,
            data: envelope.data.map { UnsafeBufferPointer(rebasing: frame[$0]) }, id: id,
            headers: envelope.headers.map { UnsafeBufferPointer(rebasing: frame[$0]) }, spansLines: envelope.spansLines,
            receivedAt: connection.receivedAt, peer: connection.peer)
        handler.handle(request, reply: ReplyContext(connection, id: id))
    }
}
