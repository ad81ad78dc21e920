@testable import BerthSDK
import CBerth
import Foundation
import XCTest

// The SDK's per-request path without a host process: a fake berth_host_api
// records what the C trampoline `handleRequest` answers.

private struct Greeting: Codable { let greeting: String }
private struct Bad: Encodable { let value: Double }
private struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

/// What the fake host received. C function pointers cannot capture, hence
/// the global; tests run one at a time.
private enum FakeHost {
    struct Answer: Equatable {
        var status: Int32
        var body: String?
        var code: String?
        var message: String?
    }
    nonisolated(unsafe) static var answers: [Answer] = []

    nonisolated(unsafe) static var api: berth_host_api = {
        var api = berth_host_api()
        api.magic = BERTH_PLUGIN_MAGIC
        api.size = UInt32(MemoryLayout<berth_host_api>.size)
        api.respond = { _, status, json, len in
            let body = json.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: len), as: UTF8.self) } ?? ""
            FakeHost.answers.append(Answer(status: status, body: body))
        }
        api.respond_error = { _, status, code, message in
            FakeHost.answers.append(Answer(status: status, code: code.map { String(cString: $0) },
                                           message: message.map { String(cString: $0) }))
        }
        return api
    }()
}

/// Calls `handleRequest` the way the host does, with C strings that stay
/// valid for the call only.
private func call(_ handler: @escaping Routes.Handler, method: String = "GET", path: String = "/",
                  query: String = "", params: [(String, String)] = [], body: String = "",
                  id: String = "", headers: String = "", box existing: RouteBox? = nil) -> FakeHost.Answer? {
    FakeHost.answers.removeAll()
    let box = existing ?? RouteBox(handler)
    let strings = [method, path, query, body, id, headers] + params.flatMap { [$0.0, $0.1] }
    var storage = strings.map { Array($0.utf8) }
    func str(_ index: Int) -> berth_str {
        storage[index].withUnsafeBufferPointer {
            berth_str(ptr: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), len: $0.count)
        }
    }
    // The arrays are not mutated, so their buffers stay put for the call.
    let cParams = params.indices.map { berth_param(name: str(6 + 2 * $0), value: str(7 + 2 * $0)) }
    withExtendedLifetime(storage) {
        cParams.withUnsafeBufferPointer { paramBuffer in
            withUnsafeMutablePointer(to: &FakeHost.api) { api in
                var request = berth_request(
                    size: UInt32(MemoryLayout<berth_request>.size),
                    method: str(0), path: str(1), query: str(2),
                    params: paramBuffer.baseAddress, param_count: paramBuffer.count,
                    body: str(3), request_id: str(4), headers: str(5),
                    host: UnsafePointer(api), host_private: nil, peer_pid: 0, peer_uid: 0, peer_gid: 0,
                    caller: berth_str(), traceparent: berth_str(), remaining_ms: 0)
                handleRequest(&request, Unmanaged.passUnretained(box).toOpaque())
            }
        }
    }
    // The host's memory is valid only during the call: scribble over it,
    // as a host reusing its buffers would, so a request that still read
    // it afterwards would show it.
    for index in storage.indices {
        storage[index].withUnsafeMutableBufferPointer { $0.update(repeating: UInt8(ascii: "#")) }
    }
    XCTAssertLessThanOrEqual(FakeHost.answers.count, 1, "answered more than once")
    return FakeHost.answers.first
}

final class UnitSDKRequestTests: XCTestCase {
    func testEncodableAnswerIsStreamedJSON() {
        let answer = call(route { request in
            Response(status: 200, body: Greeting(greeting: "Hello, \(request.parameters["name"] ?? "")!"))
        }, path: "/hello/bob", params: [("name", "bob")])
        XCTAssertEqual(answer, .init(status: 200, body: #"{"greeting":"Hello, bob!"}"#))
    }

    func testRequestFieldsAreCopied() {
        var kept: Request?
        let answer = call(route { request in
            kept = request
            return Response(status: 201)
        }, method: "PATCH", path: "/users/42/posts/7", query: "a=1&b=x%20y",
           params: [("user", "42"), ("post", "7"), ("extra", "é/ü")],
           body: #"{"title":"t"}"#, id: "\"req-1\"", headers: #"{"X-Trace":"abc","n":5}"#)
        XCTAssertEqual(answer, .init(status: 201, body: ""))
        // Used after the handler returned: everything was copied.
        let request = try! XCTUnwrap(kept)
        XCTAssertEqual(request.method, "PATCH")
        XCTAssertEqual(request.path, "/users/42/posts/7")
        XCTAssertEqual(request.query, "a=1&b=x%20y")
        XCTAssertEqual(request.queryItems, ["a": "1", "b": "x y"])
        XCTAssertEqual(request.parameters["user"], "42")
        XCTAssertEqual(request.parameters["post"], "7")
        XCTAssertEqual(request.parameters["extra"], "é/ü")
        XCTAssertNil(request.parameters["missing"])
        XCTAssertEqual(request.parameters.count, 3)
        XCTAssertEqual(request.parameters.keys, ["user", "post", "extra"])
        XCTAssertEqual(request.parameters.values, ["42", "7", "é/ü"])
        XCTAssertEqual(request.parameters.dictionary, ["user": "42", "post": "7", "extra": "é/ü"])
        XCTAssertEqual(request.rawData.string, #"{"title":"t"}"#)
        XCTAssertEqual(request.id, "\"req-1\"")
        XCTAssertEqual(request.header("x-trace"), "abc")
        XCTAssertEqual(request.header("n"), "5")
        XCTAssertEqual(try request.decode([String: String].self), ["title": "t"])
    }

    func testAbsentMembers() {
        var kept: Request?
        _ = call(raw { request in
            kept = request
            return RawJSON.null
        }, method: "DELETE", path: "/x")
        let request = try! XCTUnwrap(kept)
        XCTAssertEqual(request.method, "DELETE")
        XCTAssertEqual(request.query, "")
        XCTAssertTrue(request.parameters.isEmpty)
        XCTAssertTrue(request.rawData.isNull)
        XCTAssertTrue(request.headers.isNull)
        XCTAssertNil(request.id)
        XCTAssertNil(request.header("x"))
    }

    func testEveryMethodName() {
        for method in ["GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS", "TRACE", "get"] {
            var seen = ""
            _ = call(route { request in
                seen = request.method
                return Response(status: 204)
            }, method: method)
            XCTAssertEqual(seen, method)
        }
    }

    func testParameterNamesAreCachedPerRouteAndRefilled() {
        let box = RouteBox(route { request in
            Response(status: 200, body: request.parameters.dictionary)
        })
        XCTAssertEqual(call(box.handler, params: [("id", "1")], box: box)?.body, #"{"id":"1"}"#)
        XCTAssertEqual(call(box.handler, params: [("id", "2")], box: box)?.body, #"{"id":"2"}"#)
        // Different names (a host would never do this) are honoured.
        XCTAssertEqual(call(box.handler, params: [("ix", "3")], box: box)?.body, #"{"ix":"3"}"#)
        XCTAssertEqual(call(box.handler, params: [("a", "4"), ("b", "5")], box: box)?.body, #"{"a":"4","b":"5"}"#)
        XCTAssertEqual(call(box.handler, params: [], box: box)?.body, "{}")
        XCTAssertEqual(call(box.handler, params: [("id", "6")], box: box)?.body, #"{"id":"6"}"#)
    }

    func testRecycledRequestsCarryOnlyTheirOwnCall() {
        // One route box, so calls reuse its Request whenever the handler
        // kept nothing; members built on first use must come from the call
        // that reads them, never from an earlier one.
        var seen: [String] = []
        let box = RouteBox(route { request in
            if request.parameters["id"] == "1" {
                seen.append("\(request.path) \(request.query) \(request.id ?? "-") \(request.rawData.string) \(request.headers.string)")
            } else {
                seen.append("\(request.path) \(request.query) \(request.id ?? "-") \(request.rawData.string) \(request.headers.string) \(request.queryItems)")
            }
            return Response(status: 200, body: request.parameters.dictionary)
        })
        XCTAssertEqual(call(box.handler, path: "/a/1", query: "q=1", params: [("id", "1")], body: "[1]",
                            id: "7", headers: #"{"h":1}"#, box: box)?.body, #"{"id":"1"}"#)
        XCTAssertEqual(call(box.handler, path: "/a/2", params: [("id", "2")], box: box)?.body, #"{"id":"2"}"#)
        XCTAssertEqual(call(box.handler, path: "/b", box: box)?.body, "{}")
        XCTAssertEqual(seen, [#"/a/1 q=1 7 [1] {"h":1}"#, "/a/2  - null null [:]", "/b  - null null [:]"])
    }

    func testAThrowingHandlerLeavesNothingForTheNextCall() {
        // A call that ends in an error still ends the request: the next
        // call of the route gets its own members, and a request kept by a
        // handler that then threw keeps those of its own call.
        var kept: Request?
        let box = RouteBox(route { request in
            if request.parameters["id"] == "boom" {
                kept = request
                _ = request.path
                throw PluginError.badRequest("boom")
            }
            return Response(status: 200, body: ["path": request.path, "id": request.id ?? "-", "data": request.rawData.string])
        })
        XCTAssertEqual(call(box.handler, path: "/a/boom", params: [("id", "boom")], body: "[1]", id: "9", box: box)?.code,
                       "bad_request")
        XCTAssertEqual(call(box.handler, path: "/a/ok", params: [("id", "ok")], box: box)?.body,
                       #"{"data":"null","id":"-","path":"/a/ok"}"#)
        XCTAssertEqual(kept?.path, "/a/boom")
        XCTAssertEqual(kept?.id, "9")
        XCTAssertEqual(kept?.rawData.string, "[1]")
    }

    func testWhatAHandlerKeepsIsNeverRefilled() {
        var keptRequest: Request?
        var keptParameters: Request.Parameters?
        let box = RouteBox(route { request in
            switch request.parameters["id"] {
            case "keep-request": keptRequest = request
            case "keep-parameters": keptParameters = request.parameters
            default: break
            }
            _ = request.path
            return Response(status: 204)
        })
        _ = call(box.handler, path: "/keep-request", params: [("id", "keep-request")], body: "[1]", box: box)
        _ = call(box.handler, path: "/keep-parameters", params: [("id", "keep-parameters")], box: box)
        for round in 0..<3 {
            _ = call(box.handler, path: "/other/\(round)", params: [("id", "other \(round)")], body: "[2]", box: box)
        }
        let request = try! XCTUnwrap(keptRequest)
        XCTAssertEqual(request.path, "/keep-request")
        XCTAssertEqual(request.parameters["id"], "keep-request")
        XCTAssertEqual(request.rawData.string, "[1]")
        XCTAssertEqual(keptParameters?["id"], "keep-parameters")
        XCTAssertEqual(keptParameters, ["id": "keep-parameters"])
    }

    func testRawJSONPassesThrough() {
        let json = #"{"b": [1, 2] , "a":"\/"}"#
        let answer = call(raw { request in request.rawData }, method: "POST", body: json)
        XCTAssertEqual(answer, .init(status: 200, body: json))
    }

    func testPluginErrorIsAnsweredAsIs() {
        let answer = call(route { _ in throw PluginError.notFound("No such user.") })
        XCTAssertEqual(answer, .init(status: 404, code: "not_found", message: "No such user."))
    }

    func testOtherErrorsAreHandlerErrors() {
        let answer = call(route { _ in throw Boom() })
        XCTAssertEqual(answer, .init(status: 500, code: "handler_error", message: "Boom: boom"))
    }

    func testEncodingFailureIsReportedLikeBefore() {
        let answer = call(route { _ in Response(status: 200, body: Bad(value: .infinity)) })
        XCTAssertEqual(answer?.status, 500)
        XCTAssertEqual(answer?.code, "encode_failed")
        XCTAssertEqual(answer?.message,
                       "could not encode Bad as JSON: at 'value': Unable to encode Double.inf directly in JSON.")
    }

    func testTypedRouteAnswersItsValueAndItsEncodingFailure() {
        XCTAssertEqual(call(typed { request in Greeting(greeting: "Hello, \(request.parameters["name"] ?? "")!") },
                            path: "/hello/bob", params: [("name", "bob")]),
                       .init(status: 200, body: #"{"greeting":"Hello, bob!"}"#))
        let failed = call(typed { _ in Bad(value: .nan) })
        XCTAssertEqual(failed?.status, 500)
        XCTAssertEqual(failed?.code, "encode_failed")
        XCTAssertEqual(failed?.message, "could not encode Bad as JSON: at 'value': Unable to encode Double.nan directly in JSON.")
        // An error the handler throws is its own, not an encoding failure.
        XCTAssertEqual(call(typed { _ -> Greeting in throw Boom() }),
                       .init(status: 500, code: "handler_error", message: "Boom: boom"))
    }

    func testStatusIsKept() {
        XCTAssertEqual(call(route { _ in Response(status: 201, body: ["ok": true]) }),
                       .init(status: 201, body: #"{"ok":true}"#))
        XCTAssertEqual(call(route { _ in Response(status: 202, body: RawJSON("[1]")) }),
                       .init(status: 202, body: "[1]"))
    }

    func testHandBuiltRequestAndParameters() {
        let request = Request(method: "GET", path: "/p", parameters: ["b": "2", "a": "1"])
        XCTAssertEqual(request.parameters["a"], "1")
        XCTAssertEqual(request.parameters["b"], "2")
        XCTAssertEqual(request.parameters.keys, ["a", "b"])     // sorted: a dictionary has no order
        XCTAssertEqual(request.parameters, ["a": "1", "b": "2"])
        XCTAssertEqual(request.parameters, Request.Parameters(["b": "2", "a": "1"]))
        XCTAssertNotEqual(request.parameters, ["a": "1"])
        XCTAssertEqual(Array(request.parameters.map(\.key)), ["a", "b"])
        var pairs: [String] = []
        for (name, value) in request.parameters { pairs.append("\(name)=\(value)") }
        XCTAssertEqual(pairs, ["a=1", "b=2"])
        // Printed as a dictionary prints. Two equal dictionaries may print
        // in different orders (each instance seeds its hashing with its
        // storage address; under ASan's allocator they never share one), so
        // either order passes.
        XCTAssertTrue([#"["a": "1", "b": "2"]"#, #"["b": "2", "a": "1"]"#].contains(request.parameters.description),
                      request.parameters.description)
        let many = Request.Parameters(["a": "1", "b": "2", "c": "3", "d": "4"])
        XCTAssertEqual(many.count, 4)
        XCTAssertEqual(many["c"], "3")
        XCTAssertEqual(many["d"], "4")
        XCTAssertEqual(many.values, ["1", "2", "3", "4"])
        XCTAssertTrue(Request(method: "GET", path: "/").parameters.isEmpty)
    }
}

/// The handler the dispatcher calls for the one route `declare` adds, made
/// by `Routes.on` as a plugin's would be.
private func made(_ declare: (Routes) -> Void) -> Routes.Handler {
    let routes = Routes()
    declare(routes)
    return routes.entries[0].handler
}

/// A route whose closure returns a Response.
private func route(_ handler: @escaping (Request) throws -> Response) -> Routes.Handler {
    made { $0.on("GET", "/", handler) }
}

/// A route whose closure returns RawJSON.
private func raw(_ handler: @escaping (Request) throws -> RawJSON) -> Routes.Handler {
    made { $0.on("GET", "/", handler) }
}

/// A route whose closure returns a value, encoded without a Response.
private func typed<T: Encodable>(_ handler: @escaping (Request) throws -> T) -> Routes.Handler {
    made { $0.on("GET", "/", handler) }
}
