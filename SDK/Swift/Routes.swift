/// Collects a plugin's routes; handed to `Plugin`'s `configure` closure.
///
/// A handler may return an `Encodable` value (sent as JSON with status 200),
/// `RawJSON` (sent byte for byte with status 200) or a `Response` (its own
/// status). It answers with an error by throwing, preferably a `PluginError`.
///
/// Patterns are literal segments and whole-segment `{param}`s, e.g.
/// `/users/{id}/posts`; values arrive in `Request.parameters`. Routes need
/// the caller's auth token unless declared `public: true`; `scope:` names
/// the scope that token must carry (see the tokens file in docs/security.md), and
/// `timeout:` overrides the plugin's handler time limit for this route.
public final class Routes {
    /// Every handler shape reduced to the one the dispatcher calls: run the
    /// user's closure and send its value through the Answer.
    typealias Handler = (Request, Answer) throws -> Void

    struct Entry {
        let method: String
        let pattern: String
        let isPublic: Bool
        let scope: String?
        let timeoutMilliseconds: UInt32
        let handler: Handler
    }

    private(set) var entries: [Entry] = []

    init() {}

    /// Adds a route for any method ("GET", "HEAD", "OPTIONS", ...); the
    /// handler's value is encoded with `JSONEncoder` and sent with status 200.
    public func on<T: Encodable>(_ method: String, _ pattern: String, public isPublic: Bool = false,
                                 scope: String? = nil, timeout: Duration? = nil,
                                 _ handler: @escaping (Request) throws -> T) {
        add(method, pattern, isPublic, scope, timeout) { request, answer in try answer.send(handler(request)) }
    }

    /// Adds a route for any method whose handler's JSON is sent unchanged
    /// with status 200.
    public func on(_ method: String, _ pattern: String, public isPublic: Bool = false,
                   scope: String? = nil, timeout: Duration? = nil,
                   _ handler: @escaping (Request) throws -> RawJSON) {
        add(method, pattern, isPublic, scope, timeout) { request, answer in answer.send(try handler(request)) }
    }

    /// Adds a route for any method whose handler picks its own status.
    public func on(_ method: String, _ pattern: String, public isPublic: Bool = false,
                   scope: String? = nil, timeout: Duration? = nil,
                   _ handler: @escaping (Request) throws -> Response) {
        add(method, pattern, isPublic, scope, timeout) { request, answer in try answer.send(handler(request)) }
    }

    private func add(_ method: String, _ pattern: String, _ isPublic: Bool, _ scope: String?, _ timeout: Duration?,
                     _ handler: @escaping Handler) {
        // The host matches methods in upper case; accept "get" as well.
        entries.append(Entry(method: method.uppercased(), pattern: pattern, isPublic: isPublic,
                             scope: scope, timeoutMilliseconds: timeout.map(Self.milliseconds) ?? 0, handler: handler))
    }

    /// A timeout in whole milliseconds for the C ABI: at least 1 (0 would
    /// mean "the plugin's setting"), at most UInt32.max.
    static func milliseconds(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        let total = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return UInt32(min(max(total.rounded(.up), 1), Double(UInt32.max)))
    }
}
