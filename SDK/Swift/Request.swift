internal import CBerth
import Foundation
import Glibc

/// One call to a route, read out of the host's `berth_request`.
///
/// A `Request` may outlive its call: a handler that keeps one (a strong
/// reference) has every member copied out of the host's memory, which is
/// valid only until the call returns, before it returns. Not `Sendable`:
/// read it from one thread at a time (it builds members on first use).
public final class Request {
    /// "GET", "POST", ...
    public var method: String { built(&cachedMethod) { Self.methodName(methodSource) } }
    /// The path without the query, e.g. "/hello/bob": the request's JSON
    /// string decoded ("\/hello\/bob" is "/hello/bob").
    public var path: String { built(&cachedPath) { pathSource.string } }
    /// What followed '?', not percent-decoded; empty when there was none.
    public var query: String { built(&cachedQuery) { querySource.string } }
    /// Values of the route's `{param}` segments, percent-decoded, by name:
    /// `request.parameters["id"]` is nil when the route has no `{id}`.
    /// `parameters.dictionary` gives them as a `[String: String]`.
    public var parameters: Parameters { Parameters(storage: parameterStorage) }
    /// The request's `data` member, byte for byte; `.null` when absent.
    public var rawData: RawJSON { built(&cachedData) { RawJSON(bytes: dataSource.bytes) } }
    /// The request's `id` member as raw JSON text, nil when absent.
    public var id: String? { idSource.len > 0 ? built(&cachedID) { idSource.string } : cachedID }
    /// The request's `headers` object as raw JSON; `.null` when absent.
    public var headers: RawJSON { built(&cachedHeaders) { RawJSON(bytes: headerSource.bytes) } }
    /// The connected client's process, user and group, as the kernel
    /// reported them when the connection was accepted (SO_PEERCRED): a
    /// client cannot forge them. nil under a host older than ABI 1.1.
    public var peer: Peer? { storedPeer }

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

    // The members most handlers never read are made into Strings and
    // arrays on first use, from the host's bytes while the call lasts:
    // building them all was a third of a small request's cost in the SDK.
    // A request its handler keeps has them all built before the call
    // returns (finishCall). Exclusivity is not checked at run time, here
    // or (through the accessors above) in the plugin's module, which would
    // check every direct read of a stored `var`: the checks cost more than
    // the reads, and the class is used from one thread at a time.
    @exclusivity(unchecked) private var parameterStorage: Parameters.Storage
    @exclusivity(unchecked) private var storedPeer: Peer?
    /// The host's bytes of this call; empty outside a call.
    @exclusivity(unchecked) private var methodSource = berth_str()
    @exclusivity(unchecked) private var pathSource = berth_str()
    @exclusivity(unchecked) private var querySource = berth_str()
    @exclusivity(unchecked) private var dataSource = berth_str()
    @exclusivity(unchecked) private var idSource = berth_str()
    @exclusivity(unchecked) private var headerSource = berth_str()
    @exclusivity(unchecked) private var cachedMethod: String?
    @exclusivity(unchecked) private var cachedPath: String?
    @exclusivity(unchecked) private var cachedQuery: String?
    @exclusivity(unchecked) private var cachedID: String?
    @exclusivity(unchecked) private var cachedData: RawJSON?
    @exclusivity(unchecked) private var cachedHeaders: RawJSON?
    @exclusivity(unchecked) private var cachedHeaderObject: [String: Any]?
    @exclusivity(unchecked) private var cachedQueryItems: [String: String]?
    /// Set when one of the cached members above was built: `clear` has
    /// nothing to release otherwise (and most calls build none).
    @exclusivity(unchecked) private var builtMembers = false

    /// Builds a request by hand, e.g. to unit-test a handler.
    public init(method: String, path: String, query: String = "",
                parameters: [String: String] = [:], rawData: RawJSON = .null,
                id: String? = nil, headers: RawJSON = .null, peer: Peer? = nil) {
        cachedMethod = method
        parameterStorage = Parameters(parameters).storage
        storedPeer = peer
        cachedPath = path
        cachedQuery = query
        cachedData = rawData
        cachedHeaders = headers
        cachedID = id
        builtMembers = true
    }

    /// An empty request for `fill`.
    init() {
        parameterStorage = Parameters.Storage()
    }

    /// Takes this call's members from the host: the parameters (which
    /// nearly every handler of a parameterised route reads) are built now,
    /// the rest on first use. `finishCall` must follow before the host's
    /// call returns.
    func fill(_ req: UnsafePointer<berth_request>, names: ParameterNameCache) {
        let req = req.pointee
        methodSource = req.method
        parameterStorage.fill(req.params, req.param_count, names: names)
        storedPeer = Self.hasPeer(req) ? Peer(pid: req.peer_pid, uid: req.peer_uid, gid: req.peer_gid) : nil
        pathSource = req.path
        querySource = req.query
        dataSource = req.body
        idSource = req.request_id
        headerSource = req.headers
    }

    /// The call is about to return, and the host's bytes go with it. A
    /// request the handler kept (`isKept`) gets every member built now;
    /// one it did not is left for `clear`. Either way nothing points into
    /// the host's memory afterwards.
    func finishCall(isKept: Bool) {
        if isKept {
            _ = method
            _ = path
            _ = query
            _ = id
            _ = rawData
            _ = headers
        }
        methodSource = berth_str()
        pathSource = berth_str()
        querySource = berth_str()
        dataSource = berth_str()
        idSource = berth_str()
        headerSource = berth_str()
    }

    /// True when no `Parameters` handed out by this request is still held:
    /// only then may `fill` change their storage.
    func parametersAreUnshared() -> Bool {
        isKnownUniquelyReferenced(&parameterStorage)
    }

    /// Forgets the members built during the call so the object can serve
    /// the next call of its route (see RouteBox.recycle); what a handler
    /// kept of them (Strings, arrays) is its own copy and stays valid.
    /// `parameters` is refilled by the next `fill`.
    func clear() {
        guard builtMembers else { return }
        builtMembers = false
        cachedMethod = nil
        cachedPath = nil
        cachedQuery = nil
        cachedID = nil
        cachedData = nil
        cachedHeaders = nil
        cachedHeaderObject = nil
        cachedQueryItems = nil
    }

    /// The member kept in `cache`, made by `make` on first use.
    @inline(__always)
    private func built<Member>(_ cache: inout Member?, _ make: () -> Member) -> Member {
        if let cache { return cache }
        let made = make()
        cache = made
        builtMembers = true
        return made
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
        let rawData = self.rawData
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
    var headerObject: [String: Any] { built(&cachedHeaderObject) { Self.parseObject(headers) } }
    var queryStorage: [String: String] { built(&cachedQueryItems) { QueryString.parse(query) } }
}
