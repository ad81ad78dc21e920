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
    init(_ handler: @escaping Routes.Handler) { self.handler = handler }
}

/// `berth_route.handler` for every route.
func handleRequest(_ req: UnsafePointer<berth_request>?, _ userData: UnsafeMutableRawPointer?) {
    // A host that passes no request or no route has nothing to answer to;
    // it replies "no_response" itself.
    guard let req, let userData else { return }
    let box = Unmanaged<RouteBox>.fromOpaque(userData).takeUnretainedValue()

    let response: Response
    do {
        response = try box.handler(Request(req.pointee))
    } catch let error as PluginError {
        respondError(req, error)
        return
    } catch {
        respondError(req, PluginError(status: 500, code: "handler_error",
                                      message: "\(type(of: error)): \(error)"))
        return
    }

    let body: [UInt8]
    do {
        body = try response.encodedBody()
    } catch {
        respondError(req, PluginError(status: 500, code: "encode_failed",
                                      message: "could not encode \(response.bodyTypeName) as JSON: \(describeCodingError(error))"))
        return
    }
    respond(req, status: response.status, body: body)
}

private func respond(_ req: UnsafePointer<berth_request>, status: Int, body: [UInt8]) {
    guard let respond = req.pointee.host?.pointee.respond else { return }
    body.withUnsafeBytes { bytes in
        respond(req, Int32(clamping: status), bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
    }
}

private func respondError(_ req: UnsafePointer<berth_request>, _ error: PluginError) {
    guard let respondError = req.pointee.host?.pointee.respond_error else { return }
    error.code.withCString { code in
        error.message.withCString { message in
            respondError(req, Int32(clamping: error.status), code, message)
        }
    }
}
