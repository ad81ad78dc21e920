import BerthJSON
import XCTest

/// A member's raw text, for values passed on as written (a plugin's config).
final class UnitJSONObjectMembersTests: XCTestCase {
    func testRawValuesAreTheBytesAsWritten() {
        let text = #" { "a" : 9007199254740993 , "c\u006efig": {"n": 1e400, "s": "\/"},"b":[ 18446744073709551615 ],"a":-0.0 } "#
        let bytes = Array(text.utf8)
        let members = bytes.withUnsafeBufferPointer { JSONObjectMembers.valueRanges($0) }
        XCTAssertEqual(members.map(\.key), ["a", "cnfig", "b", "a"])
        XCTAssertEqual(members.map { String(decoding: bytes[$0.value], as: UTF8.self) },
                       ["9007199254740993", #"{"n": 1e400, "s": "\/"}"#, "[ 18446744073709551615 ]", "-0.0"])
        XCTAssertEqual(JSONObjectMembers.rawValue(ofLast: "a", in: bytes), "-0.0")
        XCTAssertEqual(JSONObjectMembers.rawValue(ofLast: "cnfig", in: bytes), #"{"n": 1e400, "s": "\/"}"#)
        XCTAssertNil(JSONObjectMembers.rawValue(ofLast: "missing", in: bytes))
        XCTAssertEqual(Array("{}".utf8).withUnsafeBufferPointer { JSONObjectMembers.valueRanges($0) }.count, 0)
        XCTAssertEqual(Array("[1]".utf8).withUnsafeBufferPointer { JSONObjectMembers.valueRanges($0) }.count, 0)
    }
}
