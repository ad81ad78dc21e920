/// A validating JSON scanner over raw bytes that finds where values start
/// and end without building them. The request path uses it instead of
/// Foundation: a round trip on a Unix socket costs a few microseconds, and
/// JSONSerialization would cost more than that (see README, Performance).
struct JSONScanner {
    struct Failure: Error {
        let message: String
        let offset: Int
    }

    /// Deeper nesting is refused rather than risking the stack.
    static let maximumDepth = 256

    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    var atEnd: Bool { index >= bytes.count }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func fail(_ message: String) -> Failure { Failure(message: message, offset: index) }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw fail(index < bytes.count ? "expected \(what)" : "unexpected end of input, expected \(what)")
        }
        index += 1
    }

    /// Scans a string starting at the opening quote. Returns the range of
    /// its content (between the quotes) and whether it contains escapes.
    mutating func scanString() throws -> (Range<Int>, hasEscapes: Bool) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        index += 1
        let start = index
        var hasEscapes = false
        let base = bytes.baseAddress!
        while index < bytes.count {
            index = PlainBytes.skip(base, from: index, to: bytes.count)
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start..<(index - 1), hasEscapes)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index += 1
                guard index < bytes.count else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    guard index + 4 < bytes.count,
                          (1...4).allSatisfy({ JSONScanner.hexValue(bytes[index + $0]) != nil }) else {
                        throw fail("bad \\u escape in string")
                    }
                    index += 5
                default:
                    throw fail("bad escape in string")
                }
                continue
            }
            if byte < 0x20 { throw fail("control character in string (escape it)") }
            index += 1
        }
        throw fail("unterminated string")
    }

    /// Scans any value and returns its range.
    mutating func scanValue(depth: Int = 0) throws -> Range<Int> {
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end of input, expected a value") }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < JSONScanner.maximumDepth else { throw fail("nested deeper than \(JSONScanner.maximumDepth)") }
            index += 1
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
                return start..<index
            }
            while true {
                skipWhitespace()
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                _ = try scanValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end of input in an object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return start..<index }
                throw fail("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            guard depth < JSONScanner.maximumDepth else { throw fail("nested deeper than \(JSONScanner.maximumDepth)") }
            index += 1
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
                return start..<index
            }
            while true {
                _ = try scanValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end of input in an array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return start..<index }
                throw fail("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            _ = try scanString()
            return start..<index
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        default: try scanNumber()
        }
        return start..<index
    }

    private mutating func scanLiteral(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        for i in 0..<count where bytes[index + i] != word.utf8Start[i] {
            throw fail("invalid literal (expected \(word))")
        }
        index += count
    }

    private mutating func scanNumber() throws {
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("unexpected character") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("digit expected after '.'") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("digit expected in exponent") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The UTF-8 bytes a string's content (already validated) stands for.
    static func unescape(_ content: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | (hexValue(content[at + $1]) ?? 0) }
        }
        while i < content.count {
            let byte = content[i]
            guard byte == UInt8(ascii: "\\"), i + 1 < content.count else {
                out.append(byte)
                i += 1
                continue
            }
            let kind = content[i + 1]
            i += 2
            switch kind {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00, i + 6 <= content.count,
                   content[i] == UInt8(ascii: "\\"), content[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            default: out.append(kind)
            }
        }
        return out
    }
}
