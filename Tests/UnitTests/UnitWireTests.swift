import BerthAuth
import BerthJSON
import BerthWire
import XCTest

/// The codec on its own: framing, envelope parsing and response writing,
/// including the inputs a hostile or sloppy client sends.
final class UnitWireTests: XCTestCase {
    private func frames(_ chunks: [String]) -> [String] {
        var framer = RequestFramer()
        var pending: [UInt8] = []
        var out: [String] = []
        for chunk in chunks {
            pending += Array(chunk.utf8)
            while let frame = pending.withUnsafeBufferPointer({ framer.next($0) }) {
                // Blank frames (a newline after an object that already
                // ended) are skipped by the server, so skip them here too.
                let text = String(decoding: pending[..<frame.length], as: UTF8.self)
                if !text.allSatisfy(\.isWhitespace) { out.append(text) }
                pending.removeFirst(frame.consumed)
            }
        }
        return out
    }

    func testFramerSplitsLinesAndObjectsWithoutNewline() {
        XCTAssertEqual(frames(["{\"a\":1}\n{\"b\":2}\n"]), ["{\"a\":1}", "{\"b\":2}"])
        // The seed's PHP client: one object, no newline.
        XCTAssertEqual(frames(["{\"path\":\"/x\",\"data\":{\"k\":[1,{}]}}"]), ["{\"path\":\"/x\",\"data\":{\"k\":[1,{}]}}"])
        // Braces and newlines-as-escapes inside strings do not end a frame.
        XCTAssertEqual(frames(["{\"s\":\"}{\\\"\\n\"}"]), ["{\"s\":\"}{\\\"\\n\"}"])
        // Byte-by-byte arrival.
        XCTAssertEqual(frames("{\"a\":\"b\"}\n".map { String($0) }), ["{\"a\":\"b\"}"])
        // A malformed line ends at its newline and does not swallow the next.
        XCTAssertEqual(frames(["{\"a\":\n{\"b\":1}\n"]), ["{\"a\":", "{\"b\":1}"])
        XCTAssertEqual(frames(["garbage\n"]), ["garbage"])
        // A newline right after a backslash in a string still ends the line
        // (found by Fuzz/run: it used to swallow the next request).
        XCTAssertEqual(frames(["{\"a\":\"x\\\n{\"b\":1}\n"]), ["{\"a\":\"x\\", "{\"b\":1}"])
        XCTAssertEqual(frames(["{\"a\":\"x\\", "\n{\"b\":1}\n"]), ["{\"a\":\"x\\", "{\"b\":1}"])
    }

    /// The one-walk fast path must frame and parse exactly as the framer
    /// followed by the parser would, or decline (nil) and leave it to them.
    func testFastPathAgreesWithFramerAndParser() {
        let token = "\"auth_token\":\"t0k\""
        let requests = [
            "{\"method\":\"GET\",\"path\":\"/hello/bob\"}\n",
            "{\"method\":\"POST\",\"path\":\"/echo\",\(token),\"data\":{\"a\":[1,2.5e3,{\"b\":null}],\"c\":\"}{\"},\"id\":7}",
            " \t{\"path\":\"/p?q=1\",\"method\":\"PUT\",\"headers\":{\"x\":\"y\"}}\r\n",
            "{\"method\":\"GET\",\n\"path\":\"/x\"}\n",               // newline between tokens: two frames
            "{\"method\":\"GET\",\"path\":\"/a\\u00e9\\\"\"}\n",  // escapes in the path
            "{\"method\":\"GET\",\"path\":\"x\",\"id\":\"i\"}\n",   // valid JSON, bad path
            "{\"method\":\"GET\" \"path\":\"/x\"}\n",              // invalid JSON
            "{\"method\":\"GET\",\"path\":\"/x\",\"data\":[1,]}\n",
            "[1,2]\n", "\n", "  \n", "garbage\n", "{}\n", "{\"a\":\"\u{1}\"}\n",
            "{\"method\":\"GET\",\"path\":\"/x\"} trailing\n",
            "{\"\\u0070ath\":\"/x\",\"method\":\"GET\"}\n",      // escaped key: the path
            "{\"method\":\"G\\u0045T\",\"path\":\"\\/x\"}\n",       // escaped method and '/'
            "{\"method\":\"GET\",\"path\":\"/\u{E9}\u{1F600}\"}\n",     // UTF-8 in a string
            "{\"method\":\"GET\",\"path\":\"/x\",\"k\":\"\u{E9}\"}\n",
        ]
        // Every request alone, each pair back to back, and every prefix of
        // those (a request still arriving).
        var inputs = requests
        for a in requests { for b in requests { inputs.append(a + b) } }
        for input in inputs {
            let bytes = Array(input.utf8)
            for end in 0...bytes.count {
                bytes[..<end].withUnsafeBufferPointer { pending in
                    var fast = RequestEnvelope()
                    guard let parsed = RequestEnvelope.parseLeadingObject(pending, into: &fast) else { return }
                    var framer = RequestFramer()
                    guard let frame = framer.next(pending) else {
                        return XCTFail("fast path framed \(parsed.frame) where the framer waits: \(input.debugDescription)[..<\(end)]")
                    }
                    XCTAssertEqual(parsed.frame, frame, "\(input.debugDescription)[..<\(end)]")
                    var slow = RequestEnvelope()
                    let invalid = RequestEnvelope.parse(UnsafeBufferPointer(rebasing: pending[..<frame.length]), into: &slow)
                    XCTAssertEqual(parsed.invalid?.message, invalid?.message, input.debugDescription)
                    XCTAssertEqual(parsed.invalid?.id, invalid?.id, input.debugDescription)
                    if invalid == nil { XCTAssertEqual(fast, slow, input.debugDescription) }
                }
            }
        }
        // It does take the common case: a whole request, pipelined or not.
        Array((requests[0] + requests[1]).utf8).withUnsafeBufferPointer { pending in
            var envelope = RequestEnvelope()
            XCTAssertEqual(RequestEnvelope.parseLeadingObject(pending, into: &envelope)?.frame.consumed, requests[0].utf8.count)
        }
    }

    private func parse(_ text: String) -> Result<RequestEnvelope, RequestEnvelope.Invalid> {
        Array(text.utf8).withUnsafeBufferPointer { RequestEnvelope.parse($0) }
    }

    private func failure(_ text: String) -> RequestEnvelope.Invalid? {
        if case .failure(let invalid) = parse(text) { return invalid }
        return nil
    }

    func testEnvelopeKeepsRawMembers() throws {
        let text = #"{"id":[1,"x"],"method":"post","path":"/a\/b?q=1","auth_token":"t","data":{"k": [true,null,1.5e3]},"headers":{"h":"v"},"extra":{}}"#
        let envelope = try parse(text).get()
        let bytes = Array(text.utf8)
        func slice(_ r: Range<Int>?) -> String { String(decoding: bytes[r!], as: UTF8.self) }
        XCTAssertEqual(slice(envelope.id), #"[1,"x"]"#)
        XCTAssertEqual(slice(envelope.data), #"{"k": [true,null,1.5e3]}"#)
        XCTAssertEqual(slice(envelope.headers), #"{"h":"v"}"#)
        XCTAssertEqual(bytes.withUnsafeBufferPointer { envelope.httpMethod(in: $0) }, .post)
        let path = bytes.withUnsafeBufferPointer { RequestEnvelope.decoded(envelope.path!, in: $0) }
        XCTAssertEqual(String(decoding: path, as: UTF8.self), "/a/b?q=1")
    }

    /// Keys Berth reads are recognised as whole words when 8 (or 12) bytes
    /// from the key's quote are in the buffer, by the string skip otherwise:
    /// every member must land in the same place either way. A key with an
    /// escape is the key it decodes to; one that only starts like a known
    /// key is never taken for it.
    func testKnownKeysAtEveryDistanceFromTheEnd() throws {
        let members = [#""id":1"#, #""data":2"#, #""headers":{}"#, #""auth_token":"t""#]
        for member in members {
            for padding in 0...13 {
                let text = #"{"method":"GET","path":"/p","# + member + String(repeating: " ", count: padding) + "}"
                let envelope = try parse(text).get()
                let bytes = Array(text.utf8)
                func slice(_ range: Range<Int>?) -> String? { range.map { String(decoding: bytes[$0], as: UTF8.self) } }
                XCTAssertEqual(slice(envelope.path?.range), "/p", text)
                XCTAssertEqual(slice(envelope.method?.range), "GET", text)
                let value = String(member[member.index(after: member.lastIndex(of: ":")!)...])
                switch member {
                case members[0]: XCTAssertEqual(slice(envelope.id), value, text)
                case members[1]: XCTAssertEqual(slice(envelope.data), value, text)
                case members[2]: XCTAssertEqual(slice(envelope.headers), value, text)
                default: XCTAssertEqual(slice(envelope.authToken?.range), "t", text)
                }
            }
        }
        // Near misses are other members.
        for other in [#""ids":1"#, #""idx":1"#, #""datum":2"#, #""headers2":{}"#, #""auth_tokens":"t""#,
                      #""\u0069\u0064x":1"#, #""i":1"#] {
            let text = #"{"method":"GET","path":"/p","# + other + "}"
            let envelope = try parse(text).get()
            XCTAssertNil(envelope.id, text)
            XCTAssertNil(envelope.data, text)
            XCTAssertNil(envelope.headers, text)
            XCTAssertNil(envelope.authToken, text)
        }
        // Escaped spellings are the members they decode to.
        let escaped = #"{"m\u0065thod":"G\u0045T","pat\u0068":"\/p","\u0069d":1,"d\u0061ta":2,"auth_toke\u006e":"t\/","head\u0065rs":{}}"#
        let envelope = try parse(escaped).get()
        let bytes = Array(escaped.utf8)
        func slice(_ range: Range<Int>?) -> String? { range.map { String(decoding: bytes[$0], as: UTF8.self) } }
        XCTAssertEqual(bytes.withUnsafeBufferPointer { envelope.httpMethod(in: $0) }, .get)
        XCTAssertEqual(bytes.withUnsafeBufferPointer { RequestEnvelope.decoded(envelope.path!, in: $0) }, Array("/p".utf8))
        XCTAssertEqual(bytes.withUnsafeBufferPointer { RequestEnvelope.decoded(envelope.authToken!, in: $0) }, Array("t/".utf8))
        XCTAssertEqual(slice(envelope.id), "1")
        XCTAssertEqual(slice(envelope.data), "2")
        XCTAssertEqual(slice(envelope.headers), "{}")
        // What the escapes decode to is checked as plain text would be.
        XCTAssertTrue(failure(#"{"method":"G\u0045TX","path":"/p"}"#)!.message.contains("unknown method"))
        XCTAssertTrue(failure(#"{"method":"GET","path":"\u0070"}"#)!.message.contains("starting with '/'"))
        XCTAssertTrue(failure(#"{"method":"GET","path":"\\/p"}"#)!.message.contains("starting with '/'"))
    }

    /// Invalid UTF-8 in any string is invalid JSON, named by its byte;
    /// valid UTF-8 of every length passes.
    func testInvalidUTF8IsRefusedAtItsByte() throws {
        let prefix = Array(#"{"method":"GET","path":"/p","data":""#.utf8)
        for bad: [UInt8] in [[0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC3], [0xC3, 0x41], [0xE0, 0x80, 0x80],
                             [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xE2, 0x82], [0xF0, 0x8F, 0xBF, 0xBF],
                             [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFF], [0xFE]] {
            // Alone, and after 20 ASCII bytes (past the first 16-byte test).
            for lead in [[], Array(repeating: UInt8(ascii: "a"), count: 20)] {
                let text = prefix + lead + bad + Array(#""}"#.utf8)
                let invalid = text.withUnsafeBufferPointer { bytes -> RequestEnvelope.Invalid? in
                    var envelope = RequestEnvelope()
                    return RequestEnvelope.parse(bytes, into: &envelope)
                }
                XCTAssertEqual(invalid?.code, "invalid_json", "\(bad)")
                XCTAssertTrue(invalid?.message.contains("invalid UTF-8 in a string") == true, "\(bad): \(invalid?.message ?? "accepted")")
                XCTAssertTrue(invalid?.message.contains("at byte \(prefix.count + lead.count);") == true, "\(bad): \(invalid?.message ?? "")")
                // An answer body with the same string is refused at the same byte.
                let body = Array(#"[""#.utf8) + lead + bad + Array(#""]"#.utf8)
                guard case .invalid(let offset, let reason) = body.withUnsafeBytes({ JSONValidator.check($0) }) else {
                    return XCTFail("body with \(bad) accepted")
                }
                XCTAssertEqual(offset, 2 + lead.count, "\(bad)")
                XCTAssertTrue(reason.contains("invalid UTF-8"), reason)
            }
        }
        for good in ["\u{7F}", "\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FFFD}", "\u{FFFF}", "\u{10000}", "\u{10FFFF}",
                     "h\u{E9}llo w\u{F6}rld \u{65E5}\u{672C}\u{8A9E} \u{1F600}"] {
            for lead in ["", String(repeating: "a", count: 13), String(repeating: "a", count: 30)] {
                XCTAssertNil(failure(#"{"method":"GET","path":"/p","data":""# + lead + good + #""}"#), good)
                let body = Array(("[\"" + lead + good + "\"]").utf8)
                XCTAssertEqual(body.withUnsafeBytes { JSONValidator.check($0) }, .valid(spansLines: false), good)
            }
        }
    }

    func testEnvelopeErrorsAreSpecific() {
        XCTAssertEqual(failure("not json")?.code, "invalid_json")
        XCTAssertEqual(failure(#"{"method":"GET","path":"/x""#)?.code, "invalid_json")
        XCTAssertEqual(failure(#"{"method":"GET","path":"/x"} trailing"#)?.code, "invalid_json")
        XCTAssertEqual(failure("[1,2]")?.code, "bad_request")
        // Bytes after a non-object value: not JSON at all (found by Fuzz/run).
        XCTAssertEqual(failure("[1,2] x")?.code, "invalid_json")
        XCTAssertEqual(failure("0x")?.code, "invalid_json")
        XCTAssertEqual(failure("\"s\" \r\t")?.code, "bad_request")
        XCTAssertTrue(failure(#"{"path":"/x"}"#)!.message.contains("missing \"method\""))
        XCTAssertTrue(failure(#"{"method":"BREW","path":"/x"}"#)!.message.contains("unknown method BREW"))
        XCTAssertTrue(failure(#"{"method":"GET"}"#)!.message.contains("missing \"path\""))
        XCTAssertTrue(failure(#"{"method":"GET","path":"x"}"#)!.message.contains("starting with '/'"))
        XCTAssertTrue(failure(#"{"method":"GET","path":7}"#)!.message.contains("starting with '/'"))
        // The id survives into the error answer when the object parsed.
        XCTAssertNotNil(failure(#"{"id":5,"path":"/x"}"#)?.id)
        XCTAssertEqual(failure("\"\u{01}\"")?.code, "invalid_json")
        XCTAssertEqual(failure(String(repeating: "[", count: 10_000))?.code, "invalid_json")
    }

    /// Strings are skipped eight bytes at a time; an escape or a control
    /// character at any offset around those words must still be seen.
    func testSpecialBytesAtEveryOffsetOfAString() {
        for length in 0...24 {
            for position in 0..<max(length, 1) {
                var content = String(repeating: "a", count: length)
                if length > 0 {
                    let at = content.index(content.startIndex, offsetBy: position)
                    content.replaceSubrange(at...at, with: "\\\"")
                }
                let text = #"{"method":"POST","path":"/x","data":""# + content + #""}"#
                XCTAssertEqual(frames([text + "\n"]), [text], "framed at length \(length), escape at \(position)")
                XCTAssertNil(failure(text), "valid at length \(length), escape at \(position)")
                var control = Array(String(repeating: "a", count: max(length, 1)).utf8)
                control[position] = 0x01
                let bad = #"{"method":"POST","path":"/x","data":""# + String(decoding: control, as: UTF8.self) + #""}"#
                XCTAssertEqual(failure(bad)?.code, "invalid_json", "control byte at \(position) of \(length)")
            }
        }
    }

    func testResponseWriterSplicesBodyAndEscapesMessages() {
        var out: [UInt8] = []
        let id = Array("\"r1\"".utf8)
        id.withUnsafeBufferPointer { idBuffer in
            Array(#"{"a":1}"#.utf8).withUnsafeBytes {
                ResponseWriter.appendSuccess(&out, id: idBuffer, status: 200, data: $0)
            }
        }
        ResponseWriter.appendError(&out, id: nil, status: 404, code: "not_found", message: "no \"route\"\n")
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       #"{"id":"r1","status":200,"data":{"a":1}}"# + "\n"
                       + #"{"id":null,"status":404,"error":{"code":"not_found","message":"no \"route\"\n"}}"# + "\n")
    }

    /// The stack-assembled head (short ids, three-digit statuses) and the
    /// general path write the same bytes on both sides of the cut-off.
    func testResponseWriterHeadForEveryIdLength() {
        for idLength in [0, 1, 63, 64, 65, 200] {
            for status in [100, 204, 599, 999, 1000, 42] {
                let id = idLength == 0 ? nil : "\"" + String(repeating: "x", count: idLength - 2 < 0 ? 0 : idLength - 2) + "\""
                var out: [UInt8] = [0x41]
                let idBytes = id.map { Array($0.utf8) } ?? []
                idBytes.withUnsafeBufferPointer { idBuffer in
                    Array("[true]".utf8).withUnsafeBytes {
                        ResponseWriter.appendSuccess(&out, id: id == nil ? nil : idBuffer, status: status, data: $0)
                    }
                    ResponseWriter.appendSuccess(&out, id: id == nil ? nil : idBuffer, status: status, data: UnsafeRawBufferPointer(start: nil, count: 0))
                }
                let expectedID = id ?? "null"
                XCTAssertEqual(String(decoding: out, as: UTF8.self),
                               "A{\"id\":\(expectedID),\"status\":\(status),\"data\":[true]}\n{\"id\":\(expectedID),\"status\":\(status),\"data\":null}\n")
            }
        }
    }

    func testTokenComparison() {
        let token = AuthToken(bytes: Array("abcdef0123456789abcdef0123456789".utf8))
        func check(_ s: String) -> Bool { Array(s.utf8).withUnsafeBufferPointer { token.matches($0) } }
        XCTAssertTrue(check("abcdef0123456789abcdef0123456789"))
        XCTAssertFalse(check("abcdef0123456789abcdef012345678"))
        XCTAssertFalse(check("abcdef0123456789abcdef01234567890"))
        XCTAssertFalse(check("Abcdef0123456789abcdef0123456789"))
        XCTAssertFalse(check(""))
        XCTAssertFalse(token.matches(nil))
    }

    func testJSONValueRoundTrip() {
        let text = #"{"a":[1,2.5,"x\n",true,null],"b":{}}"#
        XCTAssertEqual(JSONValue.parse(Array(text.utf8))?.serialized(), text)
        XCTAssertNil(JSONValue.parse(Array("{".utf8)))
    }
}
