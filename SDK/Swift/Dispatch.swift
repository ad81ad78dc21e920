// The single C handler behind every Swift route. The host only knows C
// function pointers, so each route carries its Swift closure in `user_data`
// and this function turns the C request into a Swift call and the Swift
// result (or error) into exactly one host answer.
internal import CBerth

/// Boxes a route's closure so it can travel through `void *user_data`.
/// Retained once when the descriptor is built and never released: the host
/// may call the route for as long as the process lives.
final class RouteBox {
    let handler: Routes.Handler
    /// The route's `{param}` names, built once instead of per request.
    let parameterNames = ParameterNameCache()
    /// The last call's Request, when nothing else kept it: the next call
    /// refills it instead of allocating one anew.
    @exclusivity(unchecked) private var spare: Request?

    init(_ handler: @escaping Routes.Handler) { self.handler = handler }

    /// A Request holding this call's members. The host calls one handler
    /// at a time per worker (berth.h, "Threading"); a nested call (only
    /// tests make one) finds no spare and gets a new object.
    func request(for req: UnsafePointer<berth_request>) -> Request {
        // take(): moved out, not copied and then released.
        let request = spare.take() ?? Request()
        request.fill(req, names: parameterNames)
        return request
    }

    /// Ends the call of `request`: keeps it for the next call unless the
    /// handler kept it or its parameters (what was kept must keep its
    /// members, so it is never reused). Runs before the host's call
    /// returns, while the request's bytes are still valid.
    func recycle(_ request: consuming Request) {
        // Consumed, so keeping it as the spare is a move, not a retain of
        // the caller's reference and a release of it after.
        var request = request
        let isKept = !isKnownUniquelyReferenced(&request)
        request.finishCall(isKept: isKept)
        guard !isKept, request.parametersAreUnshared() else { return }
        request.clear()
        spare = request
    }
}

/// `berth_route.handler` for every route.
func handleRequest(_ req: UnsafePointer<berth_request>?, _ userData: UnsafeMutableRawPointer?) {
    // A host that passes no request or no route has nothing to answer to;
    // it replies "no_response" itself.
    guard let req, let userData else { return }
    // Borrowed, not retained: route boxes live as long as the process.
    Unmanaged<RouteBox>.fromOpaque(userData)._withUnsafeGuaranteedRef { box in
        let request = box.request(for: req)
        answer(req, box.handler, request)
        box.recycle(request)
    }
}

/// Calls the handler and sends exactly one answer: its value, or the error
/// it threw, or why its value could not be encoded.
private func answer(_ req: UnsafePointer<berth_request>, _ handler: Routes.Handler, _ request: Request) {
    do {
        try handler(request, Answer(req: req))
    } catch let failure as Answer.EncodingFailed {
        respondError(req, PluginError(status: 500, code: "encode_failed",
                                      message: "could not encode \(failure.typeName) as JSON: \(describeCodingError(failure.error))"))
    } catch let error as PluginError {
        respondError(req, error)
    } catch {
        respondError(req, PluginError(status: 500, code: "handler_error",
                                      message: "\(type(of: error)): \(error)"))
    }
}

/// Sends a handler's value to the host. A typed route encodes its value
/// straight into the SDK's buffer: wrapping it in a Response first (an
/// `any Encodable`, opened again to encode) cost about 190 instructions
/// a request.
struct Answer {
    let req: UnsafePointer<berth_request>

    /// The handler returned a value that cannot be encoded (a non-finite
    /// Double, a throwing `encode(to:)`): 500 encode_failed, not
    /// handler_error.
    struct EncodingFailed: Error {
        let typeName: String
        let error: Error
    }

    func send<T: Encodable>(_ value: T, status: Int = 200) throws {
        do {
            // Written into the SDK's reusable buffer; the host copies it
            // before `respond` returns.
            try FastJSON.withEncoded(value) { respond(req, status: status, body: $0) }
        } catch {
            throw EncodingFailed(typeName: "\(T.self)", error: error)
        }
    }

    func send(_ json: RawJSON, status: Int = 200) {
        json.bytes.withUnsafeBytes { respond(req, status: status, body: $0) }
    }

    func send(_ response: Response) throws {
        switch response.body {
        case .raw(let json): send(json, status: response.status)
        case .value(let value): try send(value, status: response.status)
        }
    }
}

private func respond(_ req: UnsafePointer<berth_request>, status: Int, body: UnsafeRawBufferPointer) {
    guard let respond = req.pointee.host?.pointee.respond else { return }
    respond(req, Int32(clamping: status), body.baseAddress?.assumingMemoryBound(to: CChar.self), body.count)
}

private func respondError(_ req: UnsafePointer<berth_request>, _ error: PluginError) {
    guard let respondError = req.pointee.host?.pointee.respond_error else { return }
    error.code.withCString { code in
        error.message.withCString { message in
            respondError(req, Int32(clamping: error.status), code, message)
        }
    }
}
