import Glibc

/// A validating JSON scanner over raw bytes that finds where values start
/// and end without building them. The request path uses it instead of
/// Foundation: a round trip on a Unix socket costs a few microseconds, and
/// JSONSerialization would cost more than that (see docs/performance.md).
public struct JSONScanner {
    public struct Failure: Error {
        public let message: String
        public let offset: Int

        @inlinable public init(message: String, offset: Int) {
            self.message = message
            self.offset = offset
        }
    }

    /// Deeper nesting is refused rather than risking the stack.
    public static let maximumDepth = 256

    public let bytes: UnsafeBufferPointer<UInt8>
    public var index: Int
    /// Whether whitespace skipped so far held a raw '\n' or '\r'. In valid
    /// JSON that is the only place they can be (strings refuse control
    /// bytes), so this tells whether a value spans lines without a second
    /// walk over it.
    public var sawLineBreak = false
    /// `bytes` as a pointer and a count: the loops below keep their position
    /// in a local and read through these, so the optimizer keeps both in
    /// registers instead of reloading `self` (inout) after every store.
    public let base: UnsafePointer<UInt8>
    public let count: Int

    @inlinable public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
        // Never read through when count is 0.
        self.base = bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!
        self.count = bytes.count
    }

    public var atEnd: Bool { index >= count }

    @inline(__always)
    @inlinable public static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    @inline(__always)
    @inlinable public static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    @inlinable public mutating func skipWhitespace() {
        var i = index
        while i < count && JSONScanner.isWhitespace(base[i]) {
            if base[i] == 0x0A || base[i] == 0x0D { sawLineBreak = true }
            i += 1
        }
        index = i
    }

    @inlinable public func fail(_ message: String) -> Failure { Failure(message: message, offset: index) }

    @inline(__always)
    @inlinable public mutating func expect(_ byte: UInt8, _ what: StaticString) throws {
        skipWhitespace()
        guard index < count, base[index] == byte else { throw expected(what) }
        index += 1
    }

    @inline(never)
    @inlinable public func expected(_ what: StaticString) -> Failure {
        fail(index < count ? "expected \(what)" : "unexpected end of input, expected \(what)")
    }

    /// Scans a string starting at the opening quote. Returns the range of
    /// its content (between the quotes) and whether it contains escapes.
    @inline(__always)
    @inlinable public mutating func scanString() throws -> (Range<Int>, hasEscapes: Bool) {
        var hasEscapes = false
        if index < count, base[index] == UInt8(ascii: "\""),
           let end = JSONSkipper.skipString(base, count, index, &hasEscapes) {
            defer { index = end }
            return ((index + 1)..<(end - 1), hasEscapes)
        }
        return try explainString()
    }

    /// The walk over a string JSONSkipper refused: it fails at the same
    /// byte, and says what is wrong there.
    @inline(never)
    @inlinable public mutating func explainString() throws -> (Range<Int>, hasEscapes: Bool) {
        guard index < count, base[index] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = index + 1
        var i = start
        var hasEscapes = false
        while true {
            i = PlainBytes.skipASCII(base, from: i, to: count)
            guard i < count else { break }
            let byte = base[i]
            if byte == UInt8(ascii: "\"") {
                index = i + 1
                return (start..<i, hasEscapes)
            }
            if byte >= 0x80 {
                guard let end = UTF8Sequence.end(base, count, i) else {
                    index = i
                    throw fail(UTF8Sequence.explanation(byte))
                }
                i = end
                continue
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                i += 1
                guard i < count else { break }
                switch base[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    guard i + 4 < count, (1...4).allSatisfy({ JSONScanner.hexValue(base[i + $0]) != nil }) else {
                        index = i
                        throw fail("bad \\u escape in string")
                    }
                    i += 5
                default:
                    index = i
                    throw fail("bad escape in string")
                }
                continue
            }
            // What is left: a control byte.
            index = i
            throw fail("control character in string (escape it)")
        }
        index = i
        throw fail("unterminated string")
    }

    /// Scans any value and returns its range. `depth` is the number of
    /// containers already open around it.
    @inline(__always)
    @inlinable public mutating func scanValue(depth: Int = 0) throws -> Range<Int> {
        skipWhitespace()
        var lineBreak = false
        if let end = JSONSkipper.skipValue(base, count: count, from: index, depth: depth, lineBreak: &lineBreak) {
            defer { index = end }
            if lineBreak { sawLineBreak = true }
            return index..<end
        }
        return try explainValue(depth: depth)
    }

    /// The recursive walk over a value JSONSkipper refused: it fails at the
    /// same byte, and says what is wrong there.
    @inline(never)
    @inlinable public mutating func explainValue(depth: Int) throws -> Range<Int> {
        skipWhitespace()
        guard index < count else { throw fail("unexpected end of input, expected a value") }
        let start = index
        switch base[index] {
        case UInt8(ascii: "{"):
            guard depth < JSONScanner.maximumDepth else { throw fail("nested deeper than \(JSONScanner.maximumDepth)") }
            index += 1
            skipWhitespace()
            if index < count && base[index] == UInt8(ascii: "}") {
                index += 1
                return start..<index
            }
            while true {
                skipWhitespace()
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                try scanElement(depth: depth + 1)
                guard index < count else { throw fail("unexpected end of input in an object") }
                if base[index] == UInt8(ascii: ",") { index += 1; continue }
                if base[index] == UInt8(ascii: "}") { index += 1; return start..<index }
                throw fail("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            guard depth < JSONScanner.maximumDepth else { throw fail("nested deeper than \(JSONScanner.maximumDepth)") }
            index += 1
            skipWhitespace()
            if index < count && base[index] == UInt8(ascii: "]") {
                index += 1
                return start..<index
            }
            while true {
                try scanElement(depth: depth + 1)
                guard index < count else { throw fail("unexpected end of input in an array") }
                if base[index] == UInt8(ascii: ",") { index += 1; continue }
                if base[index] == UInt8(ascii: "]") { index += 1; return start..<index }
                throw fail("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        default: try scanNumber()
        }
        return start..<index
    }

    /// A member's or element's value and the whitespace after it. Strings
    /// and numbers, most of the values in a request, skip the general
    /// scanValue call.
    @inline(__always)
    @inlinable public mutating func scanElement(depth: Int) throws {
        skipWhitespace()
        if index < count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                _ = try scanString()
            } else if JSONScanner.isDigit(byte) || byte == UInt8(ascii: "-") {
                try scanNumber()
            } else {
                _ = try explainValue(depth: depth)
            }
        } else {
            _ = try explainValue(depth: depth)
        }
        skipWhitespace()
    }

    @inlinable public mutating func scanLiteral(_ word: StaticString) throws {
        let length = word.utf8CodeUnitCount
        guard index + length <= count else { throw fail("unexpected end of input") }
        guard memcmp(base + index, word.utf8Start, length) == 0 else {
            throw fail("invalid literal (expected \(word))")
        }
        index += length
    }

    @inline(__always)
    @inlinable public mutating func scanNumber() throws {
        var i = index
        defer { index = i }
        if i < count && base[i] == UInt8(ascii: "-") { i += 1 }
        guard i < count, JSONScanner.isDigit(base[i]) else { throw Failure(message: "unexpected character", offset: i) }
        if base[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < count && JSONScanner.isDigit(base[i]) { i += 1 }
        }
        if i < count && base[i] == UInt8(ascii: ".") {
            i += 1
            guard i < count, JSONScanner.isDigit(base[i]) else { throw Failure(message: "digit expected after '.'", offset: i) }
            while i < count && JSONScanner.isDigit(base[i]) { i += 1 }
        }
        if i < count && (base[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            if i < count && (base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < count, JSONScanner.isDigit(base[i]) else { throw Failure(message: "digit expected in exponent", offset: i) }
            while i < count && JSONScanner.isDigit(base[i]) { i += 1 }
        }
    }

    @inlinable public static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The UTF-8 bytes a string's content (already validated) stands for.
    @inlinable public static func unescape(_ content: UnsafeBufferPointer<UInt8>) -> [UInt8] {
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
