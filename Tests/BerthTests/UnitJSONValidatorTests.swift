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
}
