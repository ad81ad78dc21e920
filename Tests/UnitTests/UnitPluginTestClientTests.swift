import BerthRouter
import BerthSDK
import BerthWire
import Foundation
import XCTest

// PluginTestClient (SDK/Swift/Testing): a plugin's routes called in-process
// must answer as the host would: the same routing, parameter decoding,
// admission and answer lines. Where the host's own code can say what it
// would do (Router, ResponseWriter), these tests ask it.

private struct Greeting: Codable, Equatable { let greeting: String }
private struct NewItem: Codable { let name: String; let count: Int }
private struct Settings: Codable { let greeting: String }
private struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

private final class InitRecord: @unchecked Sendable { var greeting = "Hello" }

private func makePlugin(_ record: InitRecord = InitRecord()) -> Plugin {
    Plugin(name: "tested", version: "1.0.0", onInit: { config in
        record.greeting = try config.decode(Settings.self).greeting
    }) { routes in
        routes.get("/hello/{name}", public: true) { request in
            Greeting(greeting: "\(record.greeting), \(request.parameters["name"] ?? "")!")
        }
        // The parameter first: the literal must win by rule, not by order.
        routes.get("/users/{id}", public: true) { request in ["id": request.parameters["id"] ?? ""] }
        routes.get("/users/me", public: true) { _ in ["who": "me"] }
        routes.post("/items") { request in
            let item = try request.decode(NewItem.self)
            guard item.count > 0 else { throw PluginError.badRequest("count must be positive") }
            return Response(status: 201, body: item)
        }
        routes.get("/scoped", scope: "write") { _ in ["ok": true] }
        routes.get("/boom", public: true) { _ -> Greeting in throw Boom() }
        routes.get("/status/{code}", public: true) { request in Response(status: Int(request.parameters["code"]!)!, body: ["s": 1]) }
        routes.get("/raw", public: true) { _ in RawJSON("{not json") }
        routes.get("/pretty", public: true) { _ in RawJSON("{\n  \"a\": 1\n}") }
        routes.get("/query", public: true) { request in ["query": request.query] }
    }
}

final class UnitPluginTestClientTests: XCTestCase {
    func testAnswersARouteWithTheHostsLine() throws {
        let client = try PluginTestClient(makePlugin(), config: #"{"greeting":"Hi"}"#)
        let answer = client.call("GET", "/hello/bob")
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.line, #"{"id":null,"status":200,"data":{"greeting":"Hi, bob!"}}"#)
        XCTAssertEqual(answer.dataJSON, #"{"greeting":"Hi, bob!"}"#)
        XCTAssertNil(answer.errorCode)
        XCTAssertEqual(try answer.decode(Greeting.self), Greeting(greeting: "Hi, bob!"))
    }

    func testOnInitRunsAndItsErrorIsThrown() {
        XCTAssertThrowsError(try PluginTestClient(makePlugin(), config: #"{"wrong":1}"#)) { error in
            XCTAssertEqual((error as? PluginError)?.code, "bad_config")
        }
        XCTAssertThrowsError(try PluginTestClient(makePlugin(), config: "{nope")) { error in
            XCTAssertTrue("\(error)".contains("config is not valid JSON"), "\(error)")
        }
    }

    func testParametersArePercentDecodedMayHoldASlashAndAreNeverEmpty() throws {
        let client = try PluginTestClient(makePlugin(), config: #"{"greeting":"Hello"}"#)
        XCTAssertEqual(try client.call("GET", "/hello/a%2Fb%20c").decode(Greeting.self).greeting, "Hello, a/b c!")
        XCTAssertEqual(try client.call("GET", "/hello/%zz").decode(Greeting.self).greeting, "Hello, %zz!")
        let empty = client.call("GET", "/hello/")
        XCTAssertEqual(empty.status, 404)
        XCTAssertEqual(empty.errorCode, "not_found")
        XCTAssertEqual(empty.errorMessage, "no route for /hello/ in tested; GET /plugins/tested/routes on the control socket lists them")
    }

    func testALiteralSegmentWinsOverAParameter() throws {
        let client = try PluginTestClient(makePlugin(), config: #"{"greeting":"Hello"}"#)
        XCTAssertEqual(client.call("GET", "/users/me").dataJSON, #"{"who":"me"}"#)
        XCTAssertEqual(client.call("GET", "/users/you").dataJSON, #"{"id":"you"}"#)
    }

    func testWrongMethodIs405AndTheQueryIsSplitOff() throws {
        let client = try PluginTestClient(makePlugin(), config: #"{"greeting":"Hello"}"#)
        let answer = client.call("DELETE", "/hello/bob")
        XCTAssertEqual(answer.status, 405)
        XCTAssertEqual(answer.errorMessage, "DELETE is not allowed on /hello/bob; allowed: GET")
        XCTAssertEqual(client.call("get", "/query?a=1&b").dataJSON, #"{"query":"a=1&b"}"#)
        XCTAssertEqual(client.call("FETCH", "/query").errorCode, "bad_request")
    }

    func testRoutesThatAreNotPublicNeedTheAdminToken() throws {
        let client = try PluginTestClient(makePlugin(), config: #"{"greeting":"Hello"}"#)
        let missing = client.call("POST", "/items", data: #"{"name":"a","count":1}"#)
        XCTAssertEqual(missing.status, 401)
        XCTAssertTrue(missing.errorMessage?.hasPrefix("missing auth_token: POST /items needs the token") == true, missing.line)
        XCTAssertEqual(client.call("POST", "/items", token: "guess", data: "{}").errorMessage?.hasPrefix("wrong auth_token"), true)
        let admitted = client.call("POST", "/items", token: PluginTestClient.adminToken, data: #"{"name":"a","count":1}"#)
        XCTAssertEqual(admitted.status, 201)
        XCTAssertEqual(admitted.dataJSON, #"{"count":1,"name":"a"}"#)
        XCTAssertEqual(client.call("GET", "/scoped", token: PluginTestClient.adminToken).status, 200)
    }

    func testErrorsAnswerAsTheHostWouldSendThem() throws {
        let client = try PluginTestClient(makePlugin(), config: #"{"greeting":"Hello"}"#)
        let thrown = client.call("POST", "/items", token: PluginTestClient.adminToken, data: #"{"name":"a","count":0}"#)
        XCTAssertEqual(thrown.status, 400)
        XCTAssertEqual(thrown.errorCode, "bad_request")
        XCTAssertEqual(thrown.errorMessage, "count must be positive")
        XCTAssertEqual(thrown.line, hostErrorLine(400, "bad_request", "count must be positive"))
        XCTAssertThrowsError(try thrown.decode(NewItem.self))

        let undecodable = client.call("POST", "/items", token: PluginTestClient.adminToken, data: #"{"name":"a"}"#)
        XCTAssertEqual(undecodable.errorCode, "bad_request")
        XCTAssertEqual(client.call("POST", "/items", token: PluginTestClient.adminToken, data: "{oops").errorCode, "bad_request")

        let other = client.call("GET", "/boom")
        XCTAssertEqual(other.status, 500)
        XCTAssertEqual(other.errorCode, "handler_error")
        XCTAssertEqual(other.line, hostErrorLine(500, "handler_error", other.errorMessage ?? ""))
    }

    func testStatusesOutside100To599AndBodiesThatAreNotJSON() throws {
        let client = try PluginTestClient(makePlugin(), config: #"{"greeting":"Hello"}"#)
        XCTAssertEqual(client.call("GET", "/status/599").status, 599)
        let tooHigh = client.call("GET", "/status/600")
        XCTAssertEqual(tooHigh.status, 500)
        XCTAssertEqual(tooHigh.errorCode, "bad_status")
        XCTAssertEqual(tooHigh.errorMessage, "plugin tested answered GET /status/{code} with status 600; statuses must be 100-599")
        XCTAssertEqual(client.call("GET", "/status/99").errorCode, "bad_status")
        XCTAssertEqual(client.call("GET", "/raw").status, 502)
        XCTAssertEqual(client.call("GET", "/raw").errorCode, "invalid_response")
        // Line breaks between tokens are sent as spaces: one line.
        XCTAssertEqual(client.call("GET", "/pretty").line, #"{"id":null,"status":200,"data":{   "a": 1 }}"#)
    }

    func testTwoRoutesOfOneShapeAreRefusedAsTheHostRefusesThem() {
        let plugin = Plugin(name: "twice", version: "1") { routes in
            routes.get("/a/{x}", public: true) { _ in 1 }
            routes.get("/a/{y}", public: true) { _ in 2 }
        }
        XCTAssertThrowsError(try PluginTestClient(plugin)) { error in
            XCTAssertTrue("\(error)".hasPrefix("route GET /a/{y} duplicates GET /a/{x}"), "\(error)")
        }
    }

    /// The host's Router decides the same route (or 404, or 405 with the
    /// same methods) for every path, on a table where literals and
    /// parameters compete at several depths.
    func testRoutesWhereTheHostsRouterRoutes() throws {
        let table: [(String, String)] = [
            ("GET", "/a/{x}/c"), ("GET", "/a/b/{y}"), ("POST", "/a/b/c"), ("GET", "/{p}/b/d"),
            ("GET", "/"), ("PUT", "/a"), ("GET", "/a/{x}"), ("DELETE", "/{p}/{q}/{r}"), ("GET", "/x/"),
        ]
        let plugin = Plugin(name: "table", version: "1") { routes in
            for (index, (method, pattern)) in table.enumerated() {
                routes.on(method, pattern, public: true) { request in ["route": "\(index)", "params": request.parameters.values.sorted().joined(separator: ",")] }
            }
        }
        let client = try PluginTestClient(plugin)
        let router = try Router<Int>(table.enumerated().map { (HTTPMethod($0.element.0)!, try RoutePattern($0.element.1), $0.offset) })
        let paths = ["/", "/a", "/a/", "/a/b", "/a/b/c", "/a/z/c", "/a/b/d", "/q/b/d", "/q/b/c", "/a/b/c/d", "/x/", "/x", "//", "/a//c", "nope", ""]
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            for path in paths {
                let answer = client.call(method, path)
                var ranges: [Range<Int>] = []
                let bytes = Array(path.utf8)
                let expected = bytes.withUnsafeBufferPointer { router.match(HTTPMethod(method)!, $0, parameters: &ranges) }
                switch expected {
                case .found(let route):
                    let values = ranges.map { String(decoding: bytes[$0], as: UTF8.self) }.sorted().joined(separator: ",")
                    XCTAssertEqual(answer.dataJSON, #"{"params":"\#(values)","route":"\#(route.target)"}"#, "\(method) \(path)")
                case .notFound:
                    XCTAssertEqual(answer.status, 404, "\(method) \(path): \(answer.line)")
                case .methodNotAllowed(let allowed):
                    XCTAssertEqual(answer.errorMessage, "\(method) is not allowed on \(path); allowed: \(allowed.map(\.description).joined(separator: ", "))",
                                   "\(method) \(path)")
                }
            }
        }
    }

    /// The line the host's ResponseWriter writes for an error, without "\n".
    private func hostErrorLine(_ status: Int, _ code: String, _ message: String) -> String {
        var out: [UInt8] = []
        ResponseWriter.appendError(&out, id: nil, status: status, code: code, message: message)
        return String(decoding: out.dropLast(), as: UTF8.self)
    }
}
