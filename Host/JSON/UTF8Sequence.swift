/// RFC 8259 (section 8.1) requires JSON exchanged between systems to be
/// UTF-8, and strict clients (PHP's json_decode, Python's json) refuse
/// anything else. So the validating walk checks every byte of 0x80 or above
/// in a string: requests with invalid UTF-8 get 400, plugin bodies 502, and
/// no invalid text ever reaches a client or a plugin. ASCII never gets here
/// (the 16-byte test passes it), so plain requests pay nothing for this.
public enum UTF8Sequence {
    /// Just past the well-formed UTF-8 character whose first byte, at `i`,
    /// is 0x80 or above; nil when the bytes from `i` are not one (a stray
    /// continuation byte, an overlong form, a surrogate, a value above
    /// U+10FFFF, or a character cut off by the end at `n`). The ranges are
    /// the Unicode Standard's table 3-7 of well-formed byte sequences.
    @inline(__always)
    @inlinable public static func end(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int) -> Int? {
        let lead = p[i]
        @inline(__always) func continues(_ k: Int) -> Bool { p[i &+ k] & 0xC0 == 0x80 }
        switch lead {
        case 0xC2...0xDF:
            guard i &+ 1 < n, continues(1) else { return nil }
            return i &+ 2
        case 0xE0...0xEF:
            guard i &+ 2 < n else { return nil }
            let second = p[i &+ 1]
            let lowest: UInt8 = lead == 0xE0 ? 0xA0 : 0x80   // shorter forms are overlong
            let highest: UInt8 = lead == 0xED ? 0x9F : 0xBF  // ED A0.. are surrogates
            guard second >= lowest, second <= highest, continues(2) else { return nil }
            return i &+ 3
        case 0xF0...0xF4:
            guard i &+ 3 < n else { return nil }
            let second = p[i &+ 1]
            let lowest: UInt8 = lead == 0xF0 ? 0x90 : 0x80   // shorter forms are overlong
            let highest: UInt8 = lead == 0xF4 ? 0x8F : 0xBF  // F4 90.. is above U+10FFFF
            guard second >= lowest, second <= highest, continues(2), continues(3) else { return nil }
            return i &+ 4
        default:
            return nil
        }
    }

    /// Past the run of well-formed non-ASCII characters starting at `i`
    /// (text in most languages other than English is such runs), or nil
    /// at the first byte that starts none.
    @inlinable public static func skipRun(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int? {
        var i = start
        while i < n && p[i] >= 0x80 {
            guard let end = end(p, n, i) else { return nil }
            i = end
        }
        return i
    }

    /// What a refusal says, naming the byte.
    public static func explanation(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "invalid UTF-8 in a string (byte 0x\(hex.count < 2 ? "0" + hex : hex) starts no UTF-8 character; JSON text must be UTF-8)"
    }
}
