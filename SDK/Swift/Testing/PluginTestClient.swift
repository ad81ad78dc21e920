internal import CBerth
import Foundation
import Glibc

/// Runs requests through a `Plugin`'s routes in the test's own process, with
/// no host: `swift test` in a plugin package covers its handlers.
///
///     let client = try PluginTestClient(greeter)
///     let answer = client.call("GET", "/hello/bob")
///     XCTAssertEqual(answer.status, 200)
///     XCTAssertEqual(try answer.decode(Greeting.self).greeting, "Hello, bob!")
///
/// A call goes through the same C entry points a worker calls, with the
/// host's rules: routing (a literal segment wins over a `{param}`; a
/// `{param}` takes one whole, non-empty segment and is percent-decoded), 404
/// and 405, 401 for a route that is not public called without the admin
/// token, 400 for an unknown method or `data` that is not JSON, 500
/// bad_status and no_response, 502 invalid_response, and the answer line
/// the host would send. What it does not do: run the plugin in a separate
/// process (a crash ends the test), time limits, scoped tokens (only
/// `adminToken` is admitted to a route that is not public), request ids.
public struct PluginTestClient {
    /// The token that opens every route, as the host's admin token does.
    public static let adminToken = "plugin-test-admin-token"

    private let name: String
    private let routes: [TestRoute]

    /// Reads the plugin's routes as the host does at load (a bad pattern or
    /// two routes of one method and shape throw what the host would refuse
    /// the load with), then runs its `onInit` with `config`, the JSON a
    /// settings file's "config" member would hold. Throws what `onInit`
    /// throws.
    public init(_ plugin: Plugin, config: String = "{}") throws {
        let descriptor = UnsafePointer(plugin.plugin)
        name = String(cString: descriptor.pointee.name)
        routes = try TestRoute.table(of: descriptor)
        guard (try? JSONSerialization.jsonObject(with: Data(config.utf8), options: [.fragmentsAllowed])) != nil else {
            throw PluginTestError("config is not valid JSON: \(config)")
        }
        // PluginLog writes through the table init saved.
        Runtime.host = TestHostTable.table
        try plugin.onInit?(PluginConfig(json: config))
    }

    /// One request: `method` and `path` (a query after '?' is allowed), the
    /// token (nil: none), and `data` as JSON text (nil: none).
    public func call(_ method: String, _ path: String, token: String? = nil, data: String? = nil) -> PluginTestResponse {
        guard let canonicalMethod = TestMethods.canonical(method) else {
            return .error(status: 400, code: "bad_request", message: "unknown method \(method): use one of \(TestMethods.allNames)")
        }
        if let data, (try? JSONSerialization.jsonObject(with: Data(data.utf8), options: [.fragmentsAllowed])) == nil {
            return .error(status: 400, code: "bad_request", message: "\"data\" is not valid JSON: \(data)")
        }
        let whole = Array(path.utf8)
        let questionMark = whole.firstIndex(of: UInt8(ascii: "?"))
        let pathBytes = Array(whole[..<(questionMark ?? whole.count)])
        let query = questionMark.map { Array(whole[($0 + 1)...]) } ?? []
        let shownPath = String(decoding: pathBytes, as: UTF8.self)

        switch TestRouting.route(canonicalMethod, pathBytes, in: routes) {
        case .notFound:
            return .error(status: 404, code: "not_found",
                          message: "no route for \(shownPath) in \(name); GET /plugins/\(name)/routes on the control socket lists them")
        case .methodNotAllowed(let allowed):
            return .error(status: 405, code: "method_not_allowed",
                          message: "\(canonicalMethod) is not allowed on \(shownPath); allowed: \(allowed.joined(separator: ", "))")
        case .found(let route, let rawParameters):
            if !route.isPublic && token != Self.adminToken {
                let why = token == nil ? "missing auth_token" : "wrong auth_token"
                return .error(status: 401, code: "unauthorized",
                              message: "\(why): \(route.label) needs the token from <run-dir>/.auth_token, or a token from the tokens file (berth serve --tokens), in \"auth_token\"")
            }
            let values = rawParameters.map { $0.contains(UInt8(ascii: "%")) ? TestRouting.percentDecoded($0) : $0 }
            return invoke(route, method: canonicalMethod, path: pathBytes, query: query, parameters: values,
                          body: data.map { Array($0.utf8) } ?? [])
        }
    }

    /// Calls the route's C handler with a berth_request built as a worker
    /// builds one; every pointer in it lives until the handler returns.
    private func invoke(_ route: TestRoute, method: String, path: [UInt8], query: [UInt8], parameters: [[UInt8]],
                        body: [UInt8]) -> PluginTestResponse {
        let answer = TestAnswer(pluginName: name, routeLabel: route.label)
        var arena = TestArena()
        defer { arena.free() }
        let params = UnsafeMutablePointer<berth_param>.allocate(capacity: max(parameters.count, 1))
        defer { params.deallocate() }
        for (index, value) in parameters.enumerated() {
            params[index] = berth_param(name: arena.string(Array(route.parameterNames[index].utf8)), value: arena.string(value))
        }
        var request = berth_request(
            size: UInt32(MemoryLayout<berth_request>.size),
            method: arena.string(Array(method.utf8)), path: arena.string(path), query: arena.string(query),
            params: params, param_count: parameters.count,
            body: arena.string(body), request_id: arena.string([]), headers: arena.string([]),
            host: TestHostTable.table,
            host_private: Unmanaged.passUnretained(answer).toOpaque(),
            peer_pid: getpid(), peer_uid: getuid(), peer_gid: getgid(),
            caller: berth_str(), traceparent: berth_str(), remaining_ms: 0)
        withExtendedLifetime(answer) { route.handler(&request, route.userData) }
        return answer.finalResponse
    }
}

/// The bytes of one request, copied into memory that stays put while the
/// handler runs, and freed after it.
private struct TestArena {
    private var blocks: [UnsafeMutablePointer<CChar>] = []

    mutating func string(_ bytes: [UInt8]) -> berth_str {
        // One byte more, so an empty value still has a valid pointer and
        // the text is NUL-terminated (the host promises neither).
        let block = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(block).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(block), byteCount: bytes.count) }
        block[bytes.count] = 0
        blocks.append(block)
        return berth_str(ptr: UnsafePointer(block), len: bytes.count)
    }

    func free() { blocks.forEach { $0.deallocate() } }
}
