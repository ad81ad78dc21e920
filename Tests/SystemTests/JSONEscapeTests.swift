import Foundation
import XCTest

/// The request envelope means what JSON says it means: a key, a method, a
/// path or a token written with escapes ("\/", "\u0045") is the decoded
/// string, as every JSON library reads it. PHP's json_encode escapes every
/// '/' by default, so the seed's own client depends on this.
final class E2EJSONEscapeTests: BerthTestCase {
    func testEscapedMembersMeanTheirDecodedStrings() throws {
        try startExampleHost()
        let token = try sandbox.token()
        // The admin token with its first character written as a \u escape.
        let escapedToken = String(format: "\\u%04x", token.unicodeScalars.first!.value) + token.dropFirst()
        let greeter = try connect("greeter")

        // '/' escaped everywhere, as PHP writes it; a method with a \u escape.
        XCTAssertEqual(try greeter.call(#"{"method":"G\u0045T","path":"\/hello\/bob"}"#).line,
                       #"{"id":null,"status":200,"data":{"greeting":"Hello, bob!"}}"#)
        // A parameter written as \u escapes (PHP escapes non-ASCII that way).
        XCTAssertEqual(try greeter.call(#"{"method":"get","path":"\/hello\/b\u00f6b"}"#).dataObject?["greeting"] as? String,
                       "Hello, böb!")
        // A decoded '?' starts the query as a raw one does: the name is "bob".
        XCTAssertEqual(try greeter.call(#"{"method":"GET","path":"/hello/bob\u003fx=1"}"#).line,
                       #"{"id":null,"status":200,"data":{"greeting":"Hello, bob!"}}"#)
        // Keys with escapes are the members they spell.
        XCTAssertEqual(try greeter.call(#"{"\u0069d":7,"m\u0065thod":"GET","p\u0061th":"\/hello\/al"}"#).line,
                       #"{"id":7,"status":200,"data":{"greeting":"Hello, al!"}}"#)
        // A token with escapes, under an escaped key, on a scoped route.
        let whoami = try greeter.call(#"{"method":"GET","path":"\/whoami","auth\u005ftoken":"\#(escapedToken)"}"#)
        XCTAssertEqual(whoami.status, 200, whoami.line)
        XCTAssertEqual(jsonInt(whoami.dataObject?["pid"]), Int(getpid()), whoami.line)

        // The C example, on a connection of its own: escaped method, path,
        // token and the "data" key; the data comes back byte for byte.
        let cecho = try connect("cecho")
        XCTAssertEqual(try cecho.call(#"{"id":"a\/b","method":"P\u004FST","path":"\u002fecho","auth_token":"\#(escapedToken)","d\u0061ta":{"s":"x\/y"}}"#).line,
                       #"{"id":"a\/b","status":200,"data":{"s":"x\/y"}}"#)
        XCTAssertEqual(try cecho.call(#"{"method":"GET","path":"\/ping"}"#).line, #"{"id":null,"status":200,"data":{"pong":true}}"#)

        // What the escapes decode to is checked like plain text.
        let relative = try greeter.call(#"{"method":"GET","path":"\u0068ello"}"#)
        XCTAssertEqual(relative.status, 400, relative.line)
        XCTAssertEqual(relative.errorMessage, #""path" must be a string starting with '/', like "/hello/bob""#, relative.line)
        let method = try greeter.call(#"{"method":"G\u0045TS","path":"/hello/bob"}"#)
        XCTAssertEqual(method.status, 400, method.line)
        XCTAssertTrue(method.errorMessage?.contains("unknown method") == true, method.line)
        let wrongToken = try cecho.call(#"{"method":"POST","path":"\/echo","auth_token":"\#(escapedToken)\u0030"}"#)
        XCTAssertEqual(wrongToken.status, 401, wrongToken.line)
    }
}
