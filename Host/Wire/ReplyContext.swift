import BerthPOSIX

/// Where the answer to one request goes: a borrowing view of the connection
/// the request came in on, handed to `RequestHandler.handle` for that call
/// only (as swift-nio hands a ChannelHandlerContext to a handler).
///
/// A handler answers in one of two ways:
/// - now: it appends one response line before `handle` returns
///   (`appendSuccess`, `appendError`, or `appendLine` for a line it wrote
///   itself). The line joins the connection's queued output, after the
///   answers to the requests before it; the server writes it out.
/// - later: it takes a `DeferredReply` (`deferReply`), returns without
///   answering, and completes the reply afterwards from the event loop
///   (or even before returning). Until then the connection's later
///   requests, pipelined or not, wait unserved in its input, so answers
///   still leave in request order.
///
/// While the handler runs, `withUnsentOutput` lends a watchdog what it
/// needs to answer in the handler's place if the handler never returns.
///
/// Noncopyable and only ever borrowed: a handler cannot keep it past the
/// call, which is what lets it hold its connection unretained (a retain
/// and a release per request otherwise; see Connection and LineServer on
/// what those cost). What outlives the call is a DeferredReply, which
/// holds the connection strongly.
///
/// How deferred plugin answers (ABI 1.2, berth_host_api.defer; see
/// DeferredAnswer in BerthWorker) use it: a host function gives a plugin's
/// handler a handle for its answer, which ResponseContext notes. When the
/// handler returns without a status, PluginRequestHandler calls
/// `deferReply()` on this context and binds the DeferredReply to that
/// handle; an answer given through the handle before the handler returned
/// completes that DeferredReply, which already waits until `handle` has
/// returned (nothing may be appended while the handler runs: the watchdog
/// may be reading the output, see `withUnsentOutput`). The plugin answers later from a
/// callback on the worker's loop (a service call's completion, a timer):
/// the handle's respond functions check the body as respond does today,
/// call `succeed` or `fail`, and free the handle. Requests pipelined behind
/// it wait in the connection's input, so answers leave in order, while the
/// worker serves its other connections. The route's time limit, which arms
/// the watchdog thread only while a handler runs, becomes for a deferred
/// answer a loop timer that answers 504 through the reply (`fail`) without
/// ending the worker. A reply completed after its client went writes
/// nothing; what the plugin keeps of the request it copies (the request's
/// buffers point into the connection's input, valid only during `handle`).
public struct ReplyContext: ~Copyable {
    /// Not retained: the server holds the connection for the whole call.
    @usableFromInline
    let connection: Unmanaged<Connection>
    /// The raw JSON id of the request being answered (nil when none): every
    /// answer echoes it.
    public let id: UnsafeBufferPointer<UInt8>?

    init(_ connection: Connection, id: UnsafeBufferPointer<UInt8>?) {
        self.connection = Unmanaged.passUnretained(connection)
        self.id = id
    }

    /// Appends `{"id":…,"status":…,"data":…}`; `data` is spliced in as given.
    public func appendSuccess(status: Int, data: UnsafeRawBufferPointer) {
        connection._withUnsafeGuaranteedRef { ResponseWriter.appendSuccess(&$0.output, id: id, status: status, data: data) }
    }

    /// Appends `{"id":…,"status":…,"error":{"code":…,"message":…}}`.
    public func appendError(status: Int, code: String, message: String) {
        connection._withUnsafeGuaranteedRef {
            ResponseWriter.appendError(&$0.output, id: id, status: status, code: code, message: message)
        }
    }

    /// Appends a whole response line the handler wrote itself (with its
    /// id and final "\n").
    @inlinable
    public func appendLine(_ line: UnsafeBufferPointer<UInt8>) {
        connection._withUnsafeGuaranteedRef { $0.output.append(contentsOf: line) }
    }

    /// Appends a whole response line held in an array, taking the array
    /// when nothing else is queued (a large answer is then not copied);
    /// `line` is left empty.
    public func appendLine(taking line: inout [UInt8]) {
        connection._withUnsafeGuaranteedRef { connection in
            if connection.output.isEmpty {
                swap(&connection.output, &line)
            } else {
                connection.output.append(contentsOf: line)
            }
            line = []
        }
    }

    /// Promises an answer after `handle` returns: the connection's later
    /// requests wait until the reply is completed. Call at most once per
    /// request, and append nothing else for it.
    public func deferReply() -> DeferredReply {
        connection._withUnsafeGuaranteedRef { connection in
            connection.replyState = .deferredWhileHandling
            return DeferredReply(connection, id: id.map(Array.init))
        }
    }

    /// Calls `body` with the connection's socket and the output queued on
    /// it but not yet written: the answers to earlier pipelined requests,
    /// which must reach the client before anything answered in this
    /// request's place. The bytes stay valid and unchanged for the whole
    /// of `body`, during which nothing may be appended through this context.
    @inlinable
    public func withUnsentOutput<Result>(_ body: (UnsentOutput) -> Result) -> Result {
        connection._withUnsafeGuaranteedRef { connection in
            ReplyContext.lend(&connection.output, sent: connection.outputSent, socket: connection.fd.rawValue, body)
        }
    }

    /// Takes the output inout, not by reading the property: a read copies
    /// the array, a retain and a release of its buffer around the handler.
    @inlinable
    static func lend<Result>(_ output: inout [UInt8], sent: Int, socket: Int32, _ body: (UnsentOutput) -> Result) -> Result {
        output.withUnsafeBufferPointer { queued in
            body(UnsentOutput(socket: socket, bytes: UnsafeBufferPointer(rebasing: queued[min(sent, queued.count)...])))
        }
    }
}
