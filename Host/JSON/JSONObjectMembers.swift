/// Where each member's value is in a JSON object's text, for a value that
/// must be passed on exactly as written. A plugin's `config` is one:
/// rebuilt from a JSONValue, its numbers went through Double, so
/// 9007199254740993 became 9007199254740992, 2^64-1 became 1.8e+19 and
/// 1e400 became `inf`, which is not JSON.
public enum JSONObjectMembers {
    /// The decoded key and the range of the raw value of each top-level
    /// member, in order. `bytes` must be one valid JSON object (one that
    /// JSONValue.parseOrExplain accepted); anything else gives [].
    public static func valueRanges(_ bytes: UnsafeBufferPointer<UInt8>) -> [(key: String, value: Range<Int>)] {
        var scanner = JSONScanner(bytes)
        var members: [(key: String, value: Range<Int>)] = []
        do {
            try scanner.expect(UInt8(ascii: "{"), "'{'")
            scanner.skipWhitespace()
            if !scanner.atEnd && bytes[scanner.index] == UInt8(ascii: "}") { return [] }
            while true {
                scanner.skipWhitespace()
                let (keyRange, escaped) = try scanner.scanString()
                let key = UnsafeBufferPointer(rebasing: bytes[keyRange])
                try scanner.expect(UInt8(ascii: ":"), "':'")
                let value = try scanner.scanValue(depth: 1)
                members.append((String(decoding: escaped ? JSONScanner.unescape(key) : Array(key), as: UTF8.self), value))
                scanner.skipWhitespace()
                guard !scanner.atEnd, bytes[scanner.index] == UInt8(ascii: ",") else { return members }
                scanner.index += 1
            }
        } catch {
            return []
        }
    }

    /// The raw text of the last member named `key` (JSON leaves duplicate
    /// keys open; settings keep the last, as a reader that overwrites does).
    public static func rawValue(ofLast key: String, in bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            valueRanges(buffer).last { $0.key == key }.map { String(decoding: buffer[$0.value], as: UTF8.self) }
        }
    }
}
