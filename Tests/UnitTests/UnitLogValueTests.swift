import BerthSupport
import XCTest

/// A value a client chose, as it appears in a log line or an error message:
/// no control character gets through raw, and the value is cut.
final class UnitLogValueTests: XCTestCase {
    func testControlCharactersAreEscaped() {
        XCTAssertEqual(LogValue.escaped("/a\nb\rc\td"), #"/a\nb\rc\td"#)
        XCTAssertEqual(LogValue.escaped("/\u{1b}[2J\u{0}\u{7f}"), #"/\x1b[2J\x00\x7f"#)
        // C1 controls (a terminal may read U+009B as CSI) too.
        XCTAssertEqual(LogValue.escaped("/\u{9b}31m"), #"/\x9b31m"#)
        // A backslash is doubled, so "\n" in a line always was a newline.
        XCTAssertEqual(LogValue.escaped(#"/a\nb"#), #"/a\\nb"#)
        XCTAssertEqual(LogValue.escaped("/caf\u{e9}/\u{1f600}"), "/caf\u{e9}/\u{1f600}")
    }

    func testInvalidUTF8BecomesAReplacementCharacter() {
        let bytes: [UInt8] = [0x2F, 0xFF, 0x61]
        XCTAssertEqual(bytes.withUnsafeBufferPointer { LogValue.escaped($0) }, "/\u{fffd}a")
    }

    func testLongValuesAreCutAndSaySo() {
        let long = String(repeating: "a", count: 1_000_000)
        XCTAssertEqual(LogValue.escaped(long), String(repeating: "a", count: 256) + "…[999744 more bytes]")
        XCTAssertEqual(LogValue.escaped(String(repeating: "a", count: 256)), String(repeating: "a", count: 256))
        // Cut before a character, never inside one.
        let accented = String(repeating: "\u{e9}", count: 200)
        XCTAssertEqual(LogValue.escaped(accented, limit: 5), "\u{e9}\u{e9}…[396 more bytes]")
    }
}
