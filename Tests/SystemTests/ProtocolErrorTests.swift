import Foundation
import Glibc
import XCTest

/// Malformed and refused requests: exact statuses and codes, messages that
/// say what to do, and a connection that survives every one of them.
final class E2EProtocolErrorTests: BerthTestCase {
    private struct Case {
        let request: String
        let status: Int
        let code: String
        let message: [String]
        var id = "null"
    }

    func testEveryErrorLeavesThePersistentConnectionWorking() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let wrongToken = String(repeating: "0", count: 64)

        let cases: [Case] = [
            Case(request: #"this is not json"#, status: 400, code: "invalid_json", message: ["not valid JSON"]),
            Case(request: #"{"method":"GET","path":"/hello/x""#, status: 400, code: "invalid_json", message: ["not valid JSON"]),
            Case(request: #"[1,2,3]"#, status: 400, code: "bad_request", message: ["must be a JSON object"]),
            // Found by Fuzz/run: a value with bytes after it is not JSON, not
            // "JSON but not an object". ("[1] x" would be two requests: a
            // frame ends where its top-level array closes.)
            Case(request: #"1 x"#, status: 400, code: "invalid_json", message: ["not valid JSON", "unexpected bytes after the value"]),
            Case(request: #"0x"#, status: 400, code: "invalid_json", message: ["not valid JSON"]),
            Case(request: #""a string""#, status: 400, code: "bad_request", message: ["must be a JSON object"]),
            Case(request: #"{"id":1,"path":"/hello/x"}"#, status: 400, code: "bad_request",
                 message: [#"missing "method""#], id: "1"),
            Case(request: #"{"id":"m","method":"FETCH","path":"/hello/x"}"#, status: 400, code: "bad_request",
                 message: ["unknown method FETCH", "GET"], id: #""m""#),
            Case(request: #"{"method":7,"path":"/hello/x"}"#, status: 400, code: "bad_request", message: ["unknown method"]),
            Case(request: #"{"id":2,"method":"GET"}"#, status: 400, code: "bad_request", message: [#"missing "path""#], id: "2"),
            Case(request: #"{"method":"GET","path":"hello/x"}"#, status: 400, code: "bad_request", message: ["starting with '/'"]),
            Case(request: #"{"id":3,"method":"GET","path":"/nope"}"#, status: 404, code: "not_found",
                 message: ["no route for /nope in greeter", "GET /plugins/greeter/routes"], id: "3"),
            Case(request: #"{"id":4,"method":"DELETE","path":"/hello/bob"}"#, status: 405, code: "method_not_allowed",
                 message: ["DELETE is not allowed on /hello/bob", "allowed: GET"], id: "4"),
            Case(request: #"{"id":5,"method":"GET","path":"/echo"}"#, status: 405, code: "method_not_allowed",
                 message: ["GET is not allowed on /echo", "allowed: POST"], id: "5"),
            Case(request: #"{"id":6,"method":"POST","path":"/echo","data":1}"#, status: 401, code: "unauthorized",
                 message: ["missing auth_token", "POST /echo", ".auth_token"], id: "6"),
            Case(request: #"{"id":7,"method":"POST","path":"/echo","auth_token":"\#(wrongToken)","data":1}"#, status: 401,
                 code: "unauthorized", message: ["wrong auth_token"], id: "7"),
            // A prefix of the real token is not the token.
            Case(request: #"{"method":"POST","path":"/echo","auth_token":"\#(token.prefix(32))","data":1}"#, status: 401,
                 code: "unauthorized", message: ["wrong auth_token"]),
        ]

        let connection = try connect("greeter")
        for (index, item) in cases.enumerated() {
            let response = try connection.call(item.request)
            XCTAssertEqual(response.status, item.status, "\(item.request) -> \(response.line)")
            XCTAssertEqual(response.errorCode, item.code, "\(item.request) -> \(response.line)")
            XCTAssertEqual(response.rawID, item.id, "\(item.request) -> \(response.line)")
            for fragment in item.message {
                XCTAssertTrue(response.errorMessage?.contains(fragment) == true,
                              "message of \(item.request) lacks \"\(fragment)\": \(response.line)")
            }
            XCTAssertNil(response.object["data"], "an error answer carries no data: \(response.line)")
            // The very same connection goes on serving.
            let after = try connection.call("GET", "/hello/after\(index)", id: String(100 + index))
            XCTAssertEqual(after.line, #"{"id":\#(100 + index),"status":200,"data":{"greeting":"Hello, after\#(index)!"}}"#)
        }
        // The right token still works on the connection that sent wrong ones.
        XCTAssertEqual(try connection.call("POST", "/echo", token: token, data: "[1]").line,
                       #"{"id":null,"status":200,"data":[1]}"#)
    }

    func testSameErrorsFromTheCPlugin() throws {
        try startExampleHost()
        let connection = try connect("cecho")
        let expectations: [(String, Int, String)] = [
            (#"{"method":"GET","path":"/echo"}"#, 405, "method_not_allowed"),
            (#"{"method":"POST","path":"/ping"}"#, 405, "method_not_allowed"),
            (#"{"method":"GET","path":"/hello/bob"}"#, 404, "not_found"),
            (#"{"method":"POST","path":"/echo","data":{}}"#, 401, "unauthorized"),
            (#"{"method":"POST","path":"/echo","data":{,}}"#, 400, "invalid_json"),
        ]
        for (request, status, code) in expectations {
            let response = try connection.call(request)
            XCTAssertEqual(response.status, status, response.line)
            XCTAssertEqual(response.errorCode, code, response.line)
            XCTAssertEqual(try connection.call("GET", "/ping").status, 200)
        }
    }

    func testTwoMebibyteRequestGets413AndTheConnectionIsClosed() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let connection = try connect("cecho")
        let huge = WireRequest.line("POST", "/echo", token: token, data: "\"" + String(repeating: "x", count: 2 << 20) + "\"")
        // The server must keep reading (and dropping) the rest, otherwise
        // this write would block until the send timeout.
        try connection.write(huge + "\n")
        let response = try connection.readResponse()
        XCTAssertEqual(response.status, 413, response.line)
        XCTAssertEqual(response.errorCode, "request_too_large")
        XCTAssertTrue(response.errorMessage?.contains("limit of 1048576 bytes") == true, response.line)
        XCTAssertTrue(response.errorMessage?.contains("--max-request-bytes") == true, response.line)
        XCTAssertTrue(try connection.isClosedByServer(), "the connection stays open after a 413")

        // The worker is fine: a new connection is served.
        XCTAssertEqual(try call("cecho", "POST", "/echo", token: token, data: "[2]").line,
                       #"{"id":null,"status":200,"data":[2]}"#)
    }

    func testRequestJustUnderTheDefaultLimitIsServed() throws {
        try startExampleHost()
        let token = try sandbox.token()
        // ~1,000,000 bytes of payload: below 1 MiB with the envelope.
        let data = "\"" + String(repeating: "y", count: 1_000_000) + "\""
        let response = try connect("cecho").call("POST", "/echo", token: token, data: data)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.data as? String, String(repeating: "y", count: 1_000_000))
    }

    func testCustomMaxRequestBytes() throws {
        try startExampleHost(["--max-request-bytes", "1000"])
        let token = try sandbox.token()
        func request(payload: Int) -> String {
            WireRequest.line("POST", "/echo", token: token, data: "\"" + String(repeating: "z", count: payload) + "\"")
        }
        let small = request(payload: 700)
        XCTAssertLessThan(small.utf8.count, 1000)
        let accepted = try connect("greeter").call(small)
        XCTAssertEqual(accepted.status, 200, accepted.line)

        let large = request(payload: 1200)
        XCTAssertGreaterThan(large.utf8.count, 1000)
        for service in ["greeter", "cecho"] {
            let connection = try connect(service)
            // Served first, so the 413 is about size, not a fresh connection.
            XCTAssertEqual(try connection.call(small).status, 200)
            let refused = try connection.call(large)
            XCTAssertEqual(refused.status, 413, refused.line)
            XCTAssertEqual(refused.errorCode, "request_too_large")
            XCTAssertTrue(refused.errorMessage?.contains("limit of 1000 bytes") == true, refused.line)
            XCTAssertTrue(try connection.isClosedByServer(), "\(service) kept the connection after a 413")
        }
        XCTAssertEqual(try call("berth", "GET", "/status", token: token).status, 200)
    }

    func testRequestSplitIntoOneByteWrites() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let connection = try connect("greeter")
        for request in [WireRequest.line("GET", "/hello/slowpoke", id: "1") + "\n",
                        WireRequest.line("POST", "/echo", token: token, data: #"{"k":"v"}"#, id: "2")] {
            for byte in request.utf8 { try connection.write([byte]) }
        }
        XCTAssertEqual(try connection.readLine(), #"{"id":1,"status":200,"data":{"greeting":"Hello, slowpoke!"}}"#)
        XCTAssertEqual(try connection.readLine(), #"{"id":2,"status":200,"data":{"k":"v"}}"#)
    }

    /// Found by Fuzz/run: a raw newline right after a backslash inside a
    /// string used to be taken as an escape, so the malformed line swallowed
    /// the next request and the client waited for an answer that never came.
    func testBackslashAtLineEndDoesNotSwallowTheNextRequest() throws {
        try startExampleHost()
        let connection = try connect("greeter")
        try connection.write(#"{"id":1,"method":"GET","path":"/hello/\\#n"# + WireRequest.line("GET", "/hello/next", id: "2") + "\n")
        let malformed = try connection.readResponse()
        XCTAssertEqual(malformed.status, 400, malformed.line)
        XCTAssertEqual(malformed.errorCode, "invalid_json", malformed.line)
        XCTAssertEqual(try connection.readLine(), #"{"id":2,"status":200,"data":{"greeting":"Hello, next!"}}"#)
    }

    func testBlankLinesAreIgnored() throws {
        try startExampleHost()
        let connection = try connect("cecho")
        try connection.write("\n\n  \r\n" + WireRequest.line("GET", "/ping", id: "1") + "\n\n")
        XCTAssertEqual(try connection.readLine(), #"{"id":1,"status":200,"data":{"pong":true}}"#)
        XCTAssertEqual(try connection.call("GET", "/ping", id: "2").rawID, "2")
    }

    func testOnlyTheExactTokenIsAccepted() throws {
        try startExampleHost()
        let token = try sandbox.token()
        // Near misses of every kind: each must be refused.
        let nearMisses = [
            "", String(token.dropLast()), token + "0", token.uppercased(), " " + token,
            token + token,
            // Five copies: 320 bytes, a length whose XOR with 64 is 256.
            String(repeating: token, count: 5),
        ]
        let connection = try connect("cecho")
        var acceptedWrongly: [Int] = []
        for candidate in nearMisses {
            let response = try connection.call("POST", "/echo", token: candidate, data: "1")
            if response.status == 200 {
                acceptedWrongly.append(candidate.count)
                continue
            }
            XCTAssertEqual(response.status, 401, "token of \(candidate.count) bytes: \(response.line)")
            XCTAssertEqual(response.errorCode, "unauthorized")
        }
        XCTAssertEqual(try connection.call("POST", "/echo", token: token, data: "1").status, 200)
        // A length check folded into 8 bits once let the token repeated 5 times (320 bytes) in.
        XCTAssertEqual(acceptedWrongly, [], "wrong tokens accepted (their lengths)")
    }

    func testLongPipelinedStreamOfSmallRequestsIsNotMistakenForOneLargeRequest() throws {
        try startExampleHost(["--max-request-bytes", "4096"])
        let connection = try connect("cecho", timeout: 10)
        let count = 5000
        let request = WireRequest.line("GET", "/ping") + "\n"
        // 5000 small requests, far more than the 4 KiB limit in total, written
        // by one thread while this one reads (no deadlock on full buffers).
        let stream = Array(String(repeating: request, count: count).utf8)
        let writer = Thread {
            do { try connection.write(stream) } catch { print("writer: \(error)") }
        }
        writer.start()
        var answered = 0
        while answered < count {
            let line = try connection.readLine()
            guard line == #"{"id":null,"status":200,"data":{"pong":true}}"# else {
                XCTFail("answer \(answered): \(line)")
                break
            }
            answered += 1
        }
        XCTAssertEqual(answered, count)
    }
}
