internal import CBerth
import Foundation

/// One call to a route, copied out of the host's `berth_request`.
///
/// Everything is copied because the host's memory is valid only until the
/// handler returns; a `Request` may outlive that safely.
public final class Request {
    /// "GET", "POST", ...
    public let method: String
    /// The path without the query, as sent, e.g. "/hello/bob".
    public let path: String
    /// What followed '?', undecoded; empty when there was none.
    public let query: String
    /// Values of the route's `{param}` segments, percent-decoded, by name:
    /// `request.parameters["id"]` is nil when the route has no `{id}`.
    /// `parameters.dictionary` gives them as a `[String: String]`.
    public let parameters: Parameters
    /// The request's `data` member, byte for byte; `.null` when absent.
    public let rawData: RawJSON
    /// The request's `id` member as raw JSON text, nil when absent.
    public let id: String?
    /// The request's `headers` object as raw JSON; `.null` when absent.
    public let headers: RawJSON
    /// The connected client's process, user and group, as the kernel
    /// reported them when the connection was accepted (SO_PEERCRED): a
    /// client cannot forge them. nil under a host older than ABI 1.1.
    public let peer: Peer?

    /// A client's credentials (`peer`).
    public struct Peer: Equatable, Sendable {
        public let pid: Int32
        public let uid: UInt32
        public let gid: UInt32

        public init(pid: Int32, uid: UInt32, gid: UInt32) {
            self.pid = pid
            self.uid = uid
            self.gid = gid
        }
    }

    /// Builds a request by hand, e.g. to unit-test a handler.
    public convenience init(method: String, path: String, query: String = "",
                            parameters: [String: String] = [:], rawData: RawJSON = .null,
                            id: String? = nil, headers: RawJSON = .null, peer: Peer? = nil) {
        self.init(method: method, path: path, query: query, parameters: Parameters(parameters),
                  rawData: rawData, id: id, headers: headers, peer: peer)
    }

    init(method: String, path: String, query: String, parameters: Parameters,
         rawData: RawJSON, id: String?, headers: RawJSON, peer: Peer?) {
        self.method = method
        self.path = path
        self.query = query
        self.parameters = parameters
        self.rawData = rawData
        self.id = id
        self.headers = headers
        self.peer = peer
    }

    /// Copies what the handler may keep. Cheap for a typical request: the
    /// method is a constant, short strings are stored inline, parameter
    /// names are shared by all requests of the route, and absent members
    /// (no query, data, id or headers) copy nothing.
    convenience init(_ req: UnsafePointer<berth_request>, names: ParameterNameCache) {
        let req = req.pointee
        self.init(method: Self.methodName(req.method),
                  path: req.path.string,
                  query: req.query.string,
                  parameters: Parameters(req.params, req.param_count, names: names),
                  rawData: RawJSON(bytes: req.body.bytes),
                  id: req.request_id.len > 0 ? req.request_id.string : nil,
                  headers: RawJSON(bytes: req.headers.bytes),
                  peer: Self.hasPeer(req) ? Peer(pid: req.peer_pid, uid: req.peer_uid, gid: req.peer_gid) : nil)
    }

    /// BERTH_REQUEST_HAS(req, peer_gid): a 1.0 host's request ends earlier.
    static func hasPeer(_ req: berth_request) -> Bool {
        Int(req.size) >= MemoryLayout<berth_request>.offset(of: \berth_request.peer_gid)! + MemoryLayout<UInt32>.size
    }

    /// The host sends one of a few method names: answer with a constant
    /// string rather than building one per request.
    static func methodName(_ method: berth_str) -> String {
        guard let ptr = method.ptr else { return "" }
        @inline(__always) func isText(_ text: StaticString) -> Bool {
            method.len == text.utf8CodeUnitCount && memcmp(ptr, text.utf8Start, method.len) == 0
        }
        switch method.len {
        case 3:
            if isText("GET") { return "GET" }
            if isText("PUT") { return "PUT" }
        case 4:
            if isText("POST") { return "POST" }
            if isText("HEAD") { return "HEAD" }
        case 5:
            if isText("PATCH") { return "PATCH" }
        case 6:
            if isText("DELETE") { return "DELETE" }
        case 7:
            if isText("OPTIONS") { return "OPTIONS" }
        default:
            break
        }
        return method.string
    }

    /// Decodes `data` with `JSONDecoder`, e.g. `try request.decode(NewUser.self)`.
    /// On failure throws `PluginError` 400 `bad_request` naming the type and
    /// what was wrong, so the caller learns which field to fix.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        // Decoding "null" succeeds only for optionals; for anything else say
        // plainly that the data is missing rather than "found null".
        if rawData.isNull && !(T.self is ExpressibleByNilLiteral.Type) {
            throw PluginError.badRequest("The request has no data; send a \(T.self) as \"data\".")
        }
        let json = rawData.isNull ? Data("null".utf8) : Data(rawData.bytes)
        do {
            return try JSONDecoder().decode(T.self, from: json)
        } catch {
            throw PluginError.badRequest("\"data\" is not a valid \(T.self): \(describeCodingError(error))")
        }
    }

    // Built on first use only: most handlers never look at headers or query.
    lazy var headerObject: [String: Any] = Self.parseObject(headers)
    lazy var queryStorage: [String: String] = QueryString.parse(query)
}
