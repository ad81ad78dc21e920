/// An error a handler throws to answer with a specific status; the host sends
/// `{"status":S,"error":{"code":C,"message":M}}`.
///
/// Any other error a handler throws becomes 500 `handler_error`, so throw
/// this whenever the caller can do something about the problem.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    /// HTTP-like status, e.g. 404.
    public let status: Int
    /// Short snake_case word a client can branch on, e.g. `not_found`.
    public let code: String
    /// A sentence telling the caller what to do.
    public let message: String

    /// An error answered as `status` with `code` and `message`.
    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// "404 not_found: No such user.", for logs.
    public var description: String { "\(status) \(code): \(message)" }

    /// 400 `bad_request`: the input is wrong.
    public static func badRequest(_ message: String) -> PluginError {
        PluginError(status: 400, code: "bad_request", message: message)
    }

    /// 403 `forbidden`: the caller may not do this.
    public static func forbidden(_ message: String = "You are not allowed to do this.") -> PluginError {
        PluginError(status: 403, code: "forbidden", message: message)
    }

    /// 404 `not_found`: the thing asked for does not exist.
    public static func notFound(_ message: String = "Not found.") -> PluginError {
        PluginError(status: 404, code: "not_found", message: message)
    }

    /// 409 `conflict`: the request clashes with the current state.
    public static func conflict(_ message: String) -> PluginError {
        PluginError(status: 409, code: "conflict", message: message)
    }

    /// 500 `internal_error`: the plugin itself is at fault.
    public static func `internal`(_ message: String) -> PluginError {
        PluginError(status: 500, code: "internal_error", message: message)
    }
}
