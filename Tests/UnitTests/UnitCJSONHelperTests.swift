import CBerth
import Foundation
import XCTest

// SDK/C/include/berth_json.h, called from Swift through the CBerth module:
// what it writes must be valid JSON whose value is the text given (or the
// text with U+FFFD for bytes that are not UTF-8), and a text that does not
// fit must say so rather than come out cut.
// Tests/SystemTests/CJSONHelperTests compiles it with cc as a plugin would.

final class UnitCJSONHelperTests: XCTestCase {
    /// Runs `build` on a berth_json over a buffer of `capacity` bytes and
    /// returns the bytes written, or nil if they did not fit.
    private func writtenBytes(capacity: Int = 4096, _ build: (inout berth_json) -> Void) -> [UInt8]? {
        var buffer = [CChar](repeating: 0x7F, count: capacity)
        return buffer.withUnsafeMutableBufferPointer { storage in
            var json = berth_json()
            berth_json_init(&json, storage.baseAddress, capacity)
            build(&json)
            guard berth_json_ok(&json) != 0, json.length < capacity else { return nil }
            XCTAssertEqual(storage[json.length], 0, "NUL after the text")
            return Array(UnsafeRawBufferPointer(start: storage.baseAddress, count: json.length))
        }
    }

    private func written(capacity: Int = 4096, _ build: (inout berth_json) -> Void) -> String? {
        writtenBytes(capacity: capacity, build).map { String(decoding: $0, as: UTF8.self) }
    }

    private func quotedBytes(_ bytes: [UInt8]) -> [UInt8]? {
        writtenBytes { json in bytes.withUnsafeBufferPointer { berth_json_string(&json, UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: CChar.self), $0.count) } }
    }

    private func quoted(_ bytes: [UInt8]) -> String? {
        quotedBytes(bytes).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The string value of a JSON text given as bytes: JSONSerialization
    /// refuses bytes that are not UTF-8, as the host does.
    private func decoded(_ bytes: [UInt8]) throws -> String {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? String)
    }

    private func decoded(_ text: String) throws -> String { try decoded(Array(text.utf8)) }

    func testEveryByteBelow128RoundTrips() throws {
        let all = (0..<128).map(UInt8.init)
        let text = try XCTUnwrap(quoted(all))
        XCTAssertEqual(try decoded(text), String(decoding: all, as: UTF8.self))
        XCTAssertTrue(text.hasPrefix(#""\u0000\u0001"#), text)
        XCTAssertTrue(text.contains(#"\b\t\n\u000b\f\r"#), text)
        XCTAssertTrue(text.contains(##" !\"#"##) && text.contains(#"[\\]"#), text)
    }

    func testUTF8IsKeptAndWhatIsNotUTF8BecomesAReplacementCharacter() throws {
        XCTAssertEqual(quoted(Array("héllo → 🌍".utf8)), "\"héllo → 🌍\"")
        // A lone continuation byte, a cut sequence, an overlong '/', a
        // surrogate, a value past U+10FFFF, 0xFF.
        let bad: [[UInt8]] = [[0x80], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF]]
        for bytes in bad {
            let text = try XCTUnwrap(quotedBytes([0x61] + bytes + [0x62]))
            let value = try decoded(text)
            XCTAssertTrue(value.hasPrefix("a\u{FFFD}") && value.hasSuffix("b") && !value.dropFirst().dropLast().contains { $0 != "\u{FFFD}" },
                          "\(bytes): \(text)")
        }
    }

    func testIntegersIncludingTheExtremes() {
        for value in [0, 7, -1, 1234567890123, Int64.max, Int64.min] {
            XCTAssertEqual(written { berth_json_int(&$0, value) }, String(value))
        }
    }

    func testAnAnswerBuiltFromPieces() throws {
        let text = try XCTUnwrap(written { json in
            berth_json_raw(&json, "{\"hello\":")
            "b\"o\\b".withCString { berth_json_string(&json, $0, strlen($0)) }
            berth_json_raw(&json, ",\"n\":")
            berth_json_int(&json, -42)
            berth_json_raw(&json, "}")
        })
        XCTAssertEqual(text, #"{"hello":"b\"o\\b","n":-42}"#)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["hello"] as? String, "b\"o\\b")
    }

    func testWhatDoesNotFitIsReportedNotCut() {
        // "\"ab\"" is 4 bytes and needs a fifth for the NUL.
        XCTAssertEqual(written(capacity: 5) { json in "ab".withCString { berth_json_string(&json, $0, 2) } }, "\"ab\"")
        XCTAssertNil(written(capacity: 4) { json in "ab".withCString { berth_json_string(&json, $0, 2) } })
        // Once over, later writes that would fit change nothing.
        var buffer = [CChar](repeating: 0, count: 8)
        buffer.withUnsafeMutableBufferPointer { storage in
            var json = berth_json()
            berth_json_init(&json, storage.baseAddress, 8)
            berth_json_raw(&json, "[1234567890")
            let lengthAfterOverflow = json.length
            berth_json_raw(&json, "]")
            XCTAssertEqual(berth_json_ok(&json), 0)
            XCTAssertEqual(json.length, lengthAfterOverflow)
            XCTAssertEqual(json.length, 0)
        }
        XCTAssertNil(written(capacity: 0) { berth_json_raw(&$0, "") })
    }
}
