import BerthJSON
import BerthWire
import XCTest

/// The check every plugin answer passes before it is spliced into a line.
final class UnitJSONValidatorTests: XCTestCase {
    private func problem(_ text: String) -> (offset: Int, reason: String)? {
        guard case .invalid(let offset, let reason) = Array(text.utf8).withUnsafeBytes({ JSONValidator.check($0) }) else { return nil }
        return (offset, reason)
    }

    func testAcceptsEveryKindOfValueWithSurroundingWhitespace() {
        for valid in ["{}", "[]", "null", "true", "false", "0", "-1.5e+3", #""é\u00e9\n""#, " {\"a\":[1,{\"b\":null}]} ",
                      "{\n\"a\": 1\r\n}", String(repeating: "[", count: 200) + String(repeating: "]", count: 200)] {
            XCTAssertNil(problem(valid), valid)
        }
    }

    func testRefusesWithOffsetAndReason() {
        let cases: [(String, Int, String)] = [
            ("hello", 0, "unexpected character"),
            (#"{"a":"#, 5, "unexpected end of input"),
            ("{} {}", 3, "unexpected bytes after the value"),
            ("\"a\tb\"", 2, "control character in string"),
            ("[1,]", 3, "unexpected character"),
            ("01", 1, "unexpected bytes after the value"),
            (String(repeating: "[", count: 300), 256, "nested deeper than 256"),
        ]
        for (text, offset, reason) in cases {
            let found = problem(text)
            XCTAssertEqual(found?.offset, offset, text)
            XCTAssertTrue(found?.reason.contains(reason) == true, "\(text): \(String(describing: found))")
        }
    }

    /// The fast walk decides alone for valid input, and the explaining walk
    /// runs only when it refuses: each must give the right verdict on its
    /// own, or a bad body would pass (or a good one cost a second walk).
    func testTheFastWalkAndTheExplainingWalkGiveTheSameVerdicts() {
        let deep = { (n: Int) in String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        let valid = [
            "{}", "[]", "null", "true", "false", "0", "-0", "-1.5e+3", "1E5", "2e-0", "0.0", #""é\u00e9\n""#,
            " {\"a\":[1,{\"b\":null}]} ", "{\n\"a\": 1\r\n}", "[1, 2 ,3]", #"{"a":{"b":{"c":[[],{}]}}}"#,
            #""\uABCD\/\b\f\r\t\"\\""#, "\"\u{7F}\"", deep(256), #"{"k":"# + deep(255) + "}",
        ]
        let invalid = [
            deep(257), "[" + deep(256) + "]", #"{"k":"# + deep(256) + "}",
            "", " ", "hello", "tru", "truex", "nul", "falsy", "01", "-", "-a", "1.", "1.e3", "1e", "1e+", ".5", "+1",
            "[1,]", "[,1]", #"{"a":1,}"#, #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, "{1:2}", "[1 2]", "{} {}", "[}", "{]",
            "\"a\tb\"", "\"a\nb\"", #""\x""#, #""\u12""#, #""\u12g4""#, "\"unterminated", #""\"#,
            "[\"\u{0}\"]", "[\u{C}]", "{\"a\":1\u{B}}", "[1", "{\"a\":1",
        ]
        for (texts, expected) in [(valid, true), (invalid, false)] {
            for text in texts {
                let fast = Array(text.utf8).withUnsafeBufferPointer { JSONValidator.fastWalkAccepts($0) }
                XCTAssertEqual(fast, expected, "fast walk on \(text.debugDescription.prefix(80))")
                XCTAssertEqual(problem(text) == nil, expected, "JSONValidator.check on \(text.debugDescription.prefix(80))")
            }
        }
    }

    /// Strings are tested 16 bytes at a time, with a separate path for one
    /// that starts in the buffer's last 16 bytes: every length and every
    /// place of a quote, backslash or control byte, near the end and not.
    func testStringsOfEveryLengthNearTheEndOfTheBuffer() {
        func fast(_ text: String) -> Bool { Array(text.utf8).withUnsafeBufferPointer { JSONValidator.fastWalkAccepts($0) } }
        for length in 0...40 {
            let plain = String(repeating: "x", count: length)
            for prefix in ["", "[0,", #"{"long key, to move the string":"#] {
                let close = prefix.hasPrefix("[") ? "]" : prefix.isEmpty ? "" : "}"
                XCTAssertTrue(fast(prefix + "\"" + plain + "\"" + close), "\(prefix)+\(length)")
                XCTAssertFalse(fast(prefix + "\"" + plain), "unterminated \(prefix)+\(length)")
                XCTAssertFalse(fast(prefix + "\"" + plain + "\\\""), "escaped close \(prefix)+\(length)")
                for at in 0..<length {
                    var bad = Array(plain.utf8)
                    bad[at] = 0x09
                    XCTAssertFalse(fast(prefix + "\"" + String(decoding: bad, as: UTF8.self) + "\"" + close), "tab at \(at) of \(length)")
                    var escaped = Array(plain.utf8)
                    escaped[at] = UInt8(ascii: "\\")
                    escaped.insert(UInt8(ascii: "n"), at: at + 1)
                    XCTAssertTrue(fast(prefix + "\"" + String(decoding: escaped, as: UTF8.self) + "\"" + close), "\\n at \(at) of \(length)")
                }
            }
        }
    }
}
