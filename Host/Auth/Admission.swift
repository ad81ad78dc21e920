import BerthPOSIX
import BerthRouter
import BerthSupport
import BerthWire

/// What a route asks of the caller's token.
public protocol AdmissionRoute {
    /// Callable without a token.
    var isPublic: Bool { get }
    /// The bit of the scope the route needs (TokenTable.adminOnly on the
    /// control socket), or 0 when any valid token will do.
    var requiredScopes: TokenTable.Scopes { get }
    /// The scope's name, for the 403 message.
    var scopeName: String? { get }
}

/// What every server does before a route's target runs: find the route and
/// check the token and its scope. Answers 404, 405, 401 and 403 itself,
/// through the request's reply context, so workers and the control socket
/// word them the same way.
public enum Admission {
    @inlinable
    public static func admit<Target: AdmissionRoute>(
        _ request: IncomingRequest, router: Router<Target>, tokens: TokenTable,
        parameters: inout [Range<Int>], reply: borrowing ReplyContext, service: String
    ) -> Router<Target>.Route? {
        switch router.match(request.method, request.path, parameters: &parameters) {
        case .notFound:
            reply.appendError(status: 404, code: "not_found",
                              message: "no route for \(LogValue.escaped(request.path)) in \(service); GET /plugins/\(service)/routes on the control socket lists them")
            return nil
        case .methodNotAllowed(let allowed):
            let names = allowed.map(\.description).joined(separator: ", ")
            reply.appendError(status: 405, code: "method_not_allowed",
                              message: "\(request.method) is not allowed on \(LogValue.escaped(request.path)); allowed: \(names)")
            return nil
        case .found(let route):
            let target = route.target
            if target.isPublic { return route }
            guard let scopes = tokens.scopes(of: request.authToken) else {
                unauthorized(request, route.method, route.pattern, reply: reply, service: service)
                return nil
            }
            let needed = target.requiredScopes
            if needed != 0 && scopes & needed == 0 {
                forbidden(request, route.method, route.pattern, scope: target.scopeName, reply: reply, service: service)
                return nil
            }
            return route
        }
    }

    /// Every refusal is logged with the client's credentials, throttled: a
    /// client can send wrong tokens faster than anyone can read the lines.
    /// The path in these lines is the client's: escaped and cut (LogValue).
    nonisolated(unsafe) static let denials = LogThrottle(what: "refused-request")

    @usableFromInline
    static func unauthorized(_ request: IncomingRequest, _ method: HTTPMethod, _ pattern: RoutePattern, reply: borrowing ReplyContext,
                             service: String) {
        let why = request.authToken == nil ? "missing auth_token" : "wrong auth_token"
        reply.appendError(status: 401, code: "unauthorized",
                          message: "\(why): \(method) \(pattern) needs the token from <run-dir>/.auth_token, or a token from the tokens file (berth serve --tokens), in \"auth_token\"")
        denials.write(.warn, "401 \(request.method) \(LogValue.escaped(request.path)) from \(request.peer): \(why)", plugin: service == "berth" ? nil : service)
    }

    @usableFromInline
    static func forbidden(_ request: IncomingRequest, _ method: HTTPMethod, _ pattern: RoutePattern, scope: String?,
                          reply: borrowing ReplyContext, service: String) {
        let message: String
        if let scope {
            message = "this token lacks the scope \"\(scope)\" that \(method) \(pattern) needs; use a token that carries it (tokens file, berth serve --tokens) or the admin token"
        } else {
            message = "\(method) \(pattern) on the control socket needs the admin token from <run-dir>/.auth_token; tokens from the tokens file are for plugin routes only"
        }
        reply.appendError(status: 403, code: "forbidden", message: message)
        denials.write(.warn, "403 \(request.method) \(LogValue.escaped(request.path)) from \(request.peer): token lacks \(scope.map { "scope \"\($0)\"" } ?? "admin rights")",
                      plugin: service == "berth" ? nil : service)
    }
}
