import Foundation
import XCTest

/// JSON between systems must be UTF-8 (RFC 8259, section 8.1), and strict
/// clients refuse anything else. Berth checks every string: a request with
/// invalid UTF-8 anywhere (data, path, a member name) gets 400 naming the
/// byte, a plugin body with it gets 502 naming the byte and a log line, and
/// valid text in any language passes untouched.
final class E2EUTF8ValidationTests: BerthTestCase {
    /// Bodies with invalid UTF-8 on some routes, valid text on one.
    private static let utf8Body = TestPlugins.prelude + #"""
    static void cut(const berth_request *req, void *u) { (void)u; answer(req, "\"a\xC3\""); }
    static void overlong(const berth_request *req, void *u) { (void)u; answer(req, "\"\xC0\xAF\""); }
    static void surrogate(const berth_request *req, void *u) { (void)u; answer(req, "[\"\xED\xA0\x80\"]"); }
    static void key(const berth_request *req, void *u) { (void)u; answer(req, "{\"\xFF\":1}"); }
    static void valid(const berth_request *req, void *u) { (void)u; answer(req, "{\"s\":\"h\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80\"}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/cut", .handler = cut, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/overlong", .handler = overlong, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/surrogate", .handler = surrogate, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/key", .handler = key, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/valid", .handler = valid, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "utf8body", .version = "1.0.0", .routes = routes, .route_count = 5,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#

    func testRequestsWithInvalidUTF8GetA400NamingTheByte() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let cecho = try connect("cecho")
        let greeter = try connect("greeter")

        /// Sends `before`, the raw bytes `bad`, then `after`; expects 400 at
        /// the offset of the first bad byte.
        func expectRefused(_ connection: WireConnection, _ before: String, _ bad: [UInt8], _ after: String) throws {
            try connection.write(Array(before.utf8) + bad + Array(after.utf8) + [0x0A])
            let answer = try connection.readResponse()
            XCTAssertEqual(answer.status, 400, answer.line)
            XCTAssertEqual(answer.errorCode, "invalid_json", answer.line)
            let message = answer.errorMessage ?? ""
            XCTAssertTrue(message.contains("invalid UTF-8 in a string"), message)
            XCTAssertTrue(message.contains("at byte \(before.utf8.count);"), "expected byte \(before.utf8.count): \(message)")
        }
        let echo = #"{"method":"POST","path":"/echo","auth_token":"\#(token)","data":"#
        try expectRefused(cecho, echo + #""a"#, [0xFF], #"b"}"#)                    // not UTF-8 at all
        try expectRefused(cecho, echo + #"{"k":"é"#, [0xC3], #""}}"#)                // a character cut short
        try expectRefused(cecho, echo + #"[""#, [0xC0, 0xAF], #""]}"#)              // overlong '/'
        try expectRefused(cecho, echo + #"""#, [0xED, 0xA0, 0x80], #""}"#)          // a surrogate
        try expectRefused(cecho, echo + #"""#, [0xF4, 0x90, 0x80, 0x80], #""}"#)    // above U+10FFFF
        try expectRefused(greeter, #"{"method":"GET","path":"/hello/b"#, [0xE9], #"b"}"#)   // Latin-1 in the path
        try expectRefused(greeter, #"{"method":"GET","path":"/hello/x","k"#, [0xFF], #"":1}"#) // in a member name

        // Valid text in any script passes untouched, both ways.
        let text = #"{"s":"héllo wörld 日本語 😀","\u00e9":"ü"}"#
        XCTAssertEqual(try cecho.call("POST", "/echo", token: token, data: text, id: "1").line,
                       #"{"id":1,"status":200,"data":\#(text)}"#)
        XCTAssertEqual(try greeter.call("GET", "/hello/日本").dataObject?["greeting"] as? String, "Hello, 日本!")
    }

    func testPluginBodiesWithInvalidUTF8Become502NamingTheByte() throws {
        try PluginBuilder.build(Self.utf8Body, fileName: "libutf8body.so", into: sandbox.plugins)
        let host = try startHost()
        let connection = try connect("utf8body")
        for (path, offset) in [("/cut", 2), ("/overlong", 1), ("/surrogate", 2), ("/key", 2)] {
            let answer = try connection.call("GET", path)
            XCTAssertEqual(answer.status, 502, answer.line)
            XCTAssertEqual(answer.errorCode, "invalid_response", answer.line)
            let message = answer.errorMessage ?? ""
            XCTAssertTrue(message.contains("plugin utf8body answered GET \(path) with a body that is not valid JSON (byte \(offset): invalid UTF-8 in a string"),
                          message)
        }
        try host.waitForLog(containing: "[utf8body] handler for GET /cut answered with a body that is not valid JSON (byte 2 of 4: invalid UTF-8 in a string (byte 0xC3")
        XCTAssertEqual(try connection.call("GET", "/valid").line, #"{"id":null,"status":200,"data":{"s":"hé 日 😀"}}"#)
    }
}
