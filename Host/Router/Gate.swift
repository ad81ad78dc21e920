import BerthWire

/// What every server does before a route's target runs: find the route and
/// check the token. Answers 404, 405 and 401 itself, so workers and the
/// control socket word them the same way.
public enum Gate {
    @inlinable
    public static func admit<Target>(
        _ request: Request, router: Router<Target>, token: AuthToken, isPublic: (Target) -> Bool,
        parameters: inout [Range<Int>], output: inout [UInt8], service: String
    ) -> Router<Target>.Route? {
        switch router.match(request.method, request.path, parameters: &parameters) {
        case .notFound:
            ResponseWriter.appendError(&output, id: request.id, status: 404, code: "not_found",
                                       message: "no route for \(request.pathString) in \(service); GET /plugins/\(service)/routes on the control socket lists them")
            return nil
        case .methodNotAllowed(let allowed):
            let names = allowed.map(\.description).joined(separator: ", ")
            ResponseWriter.appendError(&output, id: request.id, status: 405, code: "method_not_allowed",
                                       message: "\(request.method) is not allowed on \(request.pathString); allowed: \(names)")
            return nil
        case .found(let route):
            if !isPublic(route.target) && !token.matches(request.authToken) {
                let why = request.authToken == nil ? "missing auth_token" : "wrong auth_token"
                ResponseWriter.appendError(&output, id: request.id, status: 401, code: "unauthorized",
                                           message: "\(why): \(route.method) \(route.pattern) needs the token from <run-dir>/.auth_token in \"auth_token\"")
                return nil
            }
            return route
        }
    }
}
