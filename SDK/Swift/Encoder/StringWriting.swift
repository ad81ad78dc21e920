// Strings: quoted, with only what JSON requires escaped. Most JSON strings
// are short and need no escape, so the check is done eight bytes at a time
// and the copy without a call; a string that needs escaping takes the slow
// path byte by byte.
//
// Mirrors from JSONEncoder (swift-foundation, JSONWriter.swift,
// `serializeString` and `serializeStringContents`, under
// `.withoutEscapingSlashes`):
//   - `"` and `\` escaped with a backslash; "/" left alone (the SDK's
//     `.withoutEscapingSlashes`);
//   - \b \f \n \r \t for those five control characters, `\u00XX` with
//     lowercase hex for the other bytes below 0x20;
//   - DEL (0x7F), U+2028, U+2029 and every other non-ASCII character
//     written as its UTF-8 bytes, unescaped;
//   - keys are written by the same function (FastJSONState+KeyOrder.swift).

import Foundation

extension FastJSONState {
    /// Writes `value` quoted and escaped as JSONEncoder does (control
    /// characters, quote and backslash; "/" is left alone). Returns true
    /// when something had to be escaped.
    @discardableResult
    mutating func writeString(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { utf8 in
            let n = utf8.count
            guard n > 0, let source = utf8.baseAddress else {
                writeStatic("\"\"")
                return false
            }
            reserve(n &+ 2)
            let start = count
            let destination = bytes + start
            destination[0] = UInt8(ascii: "\"")
            if !Self.anyNeedsEscape(source, n) {
                Self.copy(destination + 1, source, n)
                destination[n &+ 1] = UInt8(ascii: "\"")
                count = start &+ n &+ 2
                return false
            }
            count = start &+ 1
            writeEscaped(source, n)
            return true
        }
    }

    /// memcpy for the short strings JSON is mostly made of, without a call:
    /// two overlapping loads and stores cover 1...16 bytes.
    @inline(__always)
    private static func copy(_ destination: UnsafeMutablePointer<UInt8>, _ source: UnsafePointer<UInt8>, _ n: Int) {
        let to = UnsafeMutableRawPointer(destination), from = UnsafeRawPointer(source)
        if n > 16 {
            to.copyMemory(from: from, byteCount: n)
        } else if n >= 8 {
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: n &- 8, as: UInt64.self)
        } else if n >= 4 {
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: n &- 4, as: UInt32.self)
        } else if n >= 2 {
            let head = from.loadUnaligned(as: UInt16.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 2, as: UInt16.self)
            to.storeBytes(of: head, as: UInt16.self)
            to.storeBytes(of: tail, toByteOffset: n &- 2, as: UInt16.self)
        } else if n == 1 {
            destination[0] = source[0]
        }
    }

    /// Whether any of the `n` bytes needs escaping, eight at a time: whole
    /// words, then the last eight bytes (overlapping), or for short text a
    /// word padded with harmless bytes. No per-byte branches.
    @inline(__always)
    private static func anyNeedsEscape(_ source: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let raw = UnsafeRawPointer(source)
        if n < 8 {
            // Two overlapping loads cover every byte; 'a's fill the rest.
            let word: UInt64
            if n >= 4 {
                word = UInt64(raw.loadUnaligned(as: UInt32.self))
                    | UInt64(raw.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)) << 32
            } else if n >= 2 {
                word = UInt64(raw.loadUnaligned(as: UInt16.self))
                    | UInt64(raw.loadUnaligned(fromByteOffset: n &- 2, as: UInt16.self)) << 16
                    | 0x6161_6161_0000_0000
            } else {
                word = UInt64(source[0]) | 0x6161_6161_6161_6100
            }
            return needsEscape(word)
        }
        var i = 0
        while i &+ 8 < n {
            if needsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return true }
            i &+= 8
        }
        return needsEscape(raw.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self))
    }

    /// True when one of the eight bytes is below 0x20, '"' or '\\'
    /// (the classic "has byte less than / equal to" bit tricks; exact).
    @inline(__always)
    private static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return (control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)) & highs != 0
    }

    @inline(never)
    private mutating func writeEscaped(_ source: UnsafePointer<UInt8>, _ n: Int) {
        var mark = 0
        var i = 0
        while i < n {
            let byte = source[i]
            if byte >= 0x20 && byte != 0x22 && byte != 0x5C { i += 1; continue }
            if i > mark { writeBytes(source + mark, i - mark) }
            switch byte {
            case 0x22: writeStatic("\\\"")
            case 0x5C: writeStatic("\\\\")
            case 0x08: writeStatic("\\b")
            case 0x0C: writeStatic("\\f")
            case 0x0A: writeStatic("\\n")
            case 0x0D: writeStatic("\\r")
            case 0x09: writeStatic("\\t")
            default:
                let hex: StaticString = "0123456789abcdef"
                writeStatic("\\u00")
                writeByte(hex.utf8Start[Int(byte >> 4)])
                writeByte(hex.utf8Start[Int(byte & 0xF)])
            }
            i += 1
            mark = i
        }
        if i > mark { writeBytes(source + mark, i - mark) }
        writeByte(UInt8(ascii: "\""))
    }
}
