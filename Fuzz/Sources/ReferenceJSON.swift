/// A second, deliberately plain JSON reader (RFC 8259's grammar, written
/// straight from it) whose verdicts the host's scanner must agree with. It
/// shares no code with Host/Wire, so a shared mistake is unlikely. Like the
/// host it requires strings to be UTF-8 (checked by the standard library's
/// decoder, not Berth's), and it refuses nesting deeper than 256.
struct ReferenceJSON {
    static let maximumDepth = 256

    /// A top-level object member: its raw key (between the quotes) and where
    /// its value is.
    struct Member {
        var key: Range<Int>
        var value: Range<Int>
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// The top-level object's members, in order, when the text is one.
    private(set) var members: [Member] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Whether `bytes` is exactly one JSON value with optional whitespace
    /// around it, and the top-level members when that value is an object.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> (valid: Bool, isObject: Bool, members: [Member]) {
        var reader = ReferenceJSON(bytes)
        reader.skipWhitespace()
        let isObject = reader.peek == UInt8(ascii: "{")
        guard reader.value(depth: 0) else { return (false, false, []) }
        reader.skipWhitespace()
        guard reader.index == bytes.count else { return (false, false, []) }
        return (true, isObject, reader.members)
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { read(bytes).valid }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private mutating func value(depth: Int) -> Bool {
        skipWhitespace()
        guard let byte = peek else { return false }
        switch byte {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func object(depth: Int) -> Bool {
        guard depth < ReferenceJSON.maximumDepth else { return false }
        index += 1
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return true }
        while true {
            skipWhitespace()
            let keyStart = index + 1
            guard string() else { return false }
            let key = keyStart..<(index - 1)
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            let valueStart = index
            guard value(depth: depth + 1) else { return false }
            if depth == 0 { members.append(Member(key: key, value: valueStart..<index)) }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    private mutating func array(depth: Int) -> Bool {
        guard depth < ReferenceJSON.maximumDepth else { return false }
        index += 1
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return true }
        while true {
            guard value(depth: depth + 1) else { return false }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "]"))
        }
    }

    private mutating func string() -> Bool {
        guard take(UInt8(ascii: "\"")) else { return false }
        let start = index
        while let byte = peek {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self) != nil
            case UInt8(ascii: "\\"):
                guard let escape = peek else { return false }
                index += 1
                if escape == UInt8(ascii: "u") {
                    for _ in 0..<4 {
                        guard let hex = peek, isHexDigit(hex) else { return false }
                        index += 1
                    }
                } else if !Array(#""\/bfnrt"#.utf8).contains(escape) {
                    return false
                }
            case 0..<0x20:
                return false
            default:
                continue
            }
        }
        return false
    }

    private mutating func literal(_ word: String) -> Bool {
        for expected in word.utf8 {
            guard take(expected) else { return false }
        }
        return true
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func number() -> Bool {
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
        } else if let byte = peek, byte >= UInt8(ascii: "1") && byte <= UInt8(ascii: "9") {
            skipDigits()
        } else {
            return false
        }
        if take(UInt8(ascii: ".")) {
            guard skipDigits() > 0 else { return false }
        }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard skipDigits() > 0 else { return false }
        }
        return true
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = peek, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    private func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    /// A string's content as UTF-8, decoded independently of the host: each
    /// run of \u escapes is UTF-16, so lone surrogates become U+FFFD.
    static func unescape(_ content: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var units: [UInt16] = []
        func flush() {
            out += Array(String(decoding: units, as: UTF16.self).utf8)
            units.removeAll()
        }
        var i = 0
        while i < content.count {
            if content[i] == UInt8(ascii: "\\"), i + 1 < content.count, content[i + 1] == UInt8(ascii: "u"), i + 6 <= content.count {
                let hex = String(decoding: UnsafeBufferPointer(rebasing: content[(i + 2)..<(i + 6)]), as: UTF8.self)
                units.append(UInt16(hex, radix: 16)!)
                i += 6
                continue
            }
            flush()
            if content[i] == UInt8(ascii: "\\"), i + 1 < content.count {
                let escapes: [UInt8: UInt8] = [0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
                out.append(escapes[content[i + 1]] ?? content[i + 1])
                i += 2
            } else {
                out.append(content[i])
                i += 1
            }
        }
        flush()
        return out
    }
}
