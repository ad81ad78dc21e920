/// A value a client chose (a path, a name), made safe to put in a log line
/// or an error message: control characters are escaped, so a client cannot
/// start a forged line or send terminal escapes to whoever reads the log,
/// and the value is cut, so it cannot make one line megabytes long.
///
/// Only for logging and error messages, never on the path of a request that
/// is answered normally.
public enum LogValue {
    /// Bytes of a value kept before it is cut: enough for any real path.
    public static let keptBytes = 256

    /// `value` with C0 controls, DEL and C1 controls written as `\n`, `\r`,
    /// `\t` or `\xNN`, a backslash as `\\` (so an escape in the output
    /// always came from the escaping), invalid UTF-8 as U+FFFD, and at most
    /// `limit` bytes of it kept, followed by "…[N more bytes]".
    public static func escaped(_ value: UnsafeBufferPointer<UInt8>, limit: Int = keptBytes) -> String {
        var kept = min(value.count, limit)
        // Cut before a character, not inside one.
        while kept > 0, kept < value.count, value[kept] & 0xC0 == 0x80 { kept -= 1 }
        var out = ""
        out.reserveCapacity(kept + 24)
        for scalar in String(decoding: UnsafeBufferPointer(rebasing: value[..<kept]), as: UTF8.self).unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x5C: out += "\\\\"
            case 0x00..<0x20, 0x7F...0x9F: out += hexEscape(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        if kept < value.count { out += "…[\(value.count - kept) more bytes]" }
        return out
    }

    public static func escaped(_ value: String, limit: Int = keptBytes) -> String {
        var copy = value
        return copy.withUTF8 { escaped($0, limit: limit) }
    }

    private static func hexEscape(_ value: UInt32) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return "\\x" + String(decoding: [digits[Int(value >> 4)], digits[Int(value & 0xF)]], as: UTF8.self)
    }
}
