import BerthJSON
import BerthPOSIX

/// W3C Trace Context (https://www.w3.org/TR/trace-context/): which trace a
/// request belongs to and which span is its own. A request's `traceparent`
/// header is continued (same trace, a new span id of this hop's own) when
/// it is valid, and replaced when it is not: a malformed header is never
/// passed on, since every hop after would inherit the damage.
public struct TraceContext: Equatable, Sendable {
    /// 16 bytes, not all zero.
    public let traceID: [UInt8]
    /// 8 bytes, not all zero: the span this context names.
    public let spanID: [UInt8]
    /// trace-flags; bit 0 is "sampled".
    public let flags: UInt8

    public init(traceID: [UInt8], spanID: [UInt8], flags: UInt8) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    /// Parses a `traceparent` value; nil when it is invalid: not
    /// `version-traceid-parentid-flags` in lowercase hex, version ff, an
    /// all-zero trace or parent id, or version 00 with anything after
    /// the flags. A later version is read as the spec asks (its first
    /// four fields, and a '-' after them if it has more).
    public static func parse<Bytes: Collection<UInt8>>(traceparent: Bytes) -> TraceContext? {
        let text = Array(traceparent)
        guard text.count >= 55, text[2] == dash, text[35] == dash, text[52] == dash,
              let version = hexByte(text, 0), version != 0xFF,
              let traceID = hexBytes(text, 3, count: 16), let spanID = hexBytes(text, 36, count: 8),
              let flags = hexByte(text, 53),
              traceID.contains(where: { $0 != 0 }), spanID.contains(where: { $0 != 0 }) else { return nil }
        if version == 0 ? text.count != 55 : (text.count > 55 && text[55] != dash) { return nil }
        return TraceContext(traceID: traceID, spanID: spanID, flags: flags)
    }

    /// A new trace: random ids, sampled.
    public static func start() -> TraceContext {
        TraceContext(traceID: randomID(16), spanID: randomID(8), flags: 1)
    }

    /// The same trace with a new span id: this hop's own span (a request
    /// it serves, or a call it makes).
    public func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: TraceContext.randomID(8), flags: flags)
    }

    /// `00-<trace id>-<span id>-<flags>`: always version 00, which is what
    /// this code writes, whatever version it read.
    public var traceparent: String { "00-\(traceIDHex)-\(spanIDHex)-\(Self.hex([flags]))" }
    public var traceIDHex: String { Self.hex(traceID) }
    public var spanIDHex: String { Self.hex(spanID) }

    /// `tracestate` as passed on: its list members (empty ones dropped),
    /// at most `maximumStateMembers` of them, then members dropped from the
    /// end until it is at most `maximumStateCharacters` long.
    public static func cappedState<Bytes: Collection<UInt8>>(_ tracestate: Bytes) -> String {
        var members = String(decoding: Array(tracestate), as: UTF8.self)
            .split(separator: ",", omittingEmptySubsequences: true)
            .map { $0.trimmingSpacesAndTabs() }
            .filter { !$0.isEmpty }
        if members.count > maximumStateMembers { members.removeLast(members.count - maximumStateMembers) }
        while !members.isEmpty, members.joined(separator: ",").utf8.count > maximumStateCharacters { members.removeLast() }
        return members.joined(separator: ",")
    }

    public static let maximumStateMembers = 32
    public static let maximumStateCharacters = 512

    private static let dash = UInt8(ascii: "-")

    /// Ids must be unique, not secret: a generator seeded once from the
    /// kernel, so a traced request costs no getrandom(2) call.
    nonisolated(unsafe) private static var generator = IDGenerator()

    private static func randomID(_ count: Int) -> [UInt8] {
        while true {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            while bytes.count < count {
                withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0.prefix(count - bytes.count)) }
            }
            // A zero id is invalid: draw again (1 in 2^64).
            if bytes.contains(where: { $0 != 0 }) { return bytes }
        }
    }

    /// Lowercase hex digit values; uppercase is invalid in traceparent.
    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private static func hexByte(_ text: [UInt8], _ at: Int) -> UInt8? {
        guard let high = nibble(text[at]), let low = nibble(text[at + 1]) else { return nil }
        return high << 4 | low
    }

    private static func hexBytes(_ text: [UInt8], _ at: Int, count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let byte = hexByte(text, at + 2 * i) else { return nil }
            out.append(byte)
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014) seeded from getrandom(2): spreads
/// any seed over all 64-bit values, one multiply-xorshift per id half.
private struct IDGenerator {
    private var state: UInt64 = {
        let seed = (try? SecureRandom.bytes(8)) ?? []
        return seed.count == 8 ? seed.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } : UInt64.random(in: .min ... .max)
    }()

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Substring {
    /// Without the optional whitespace (spaces, tabs) HTTP lists allow.
    fileprivate func trimmingSpacesAndTabs() -> String {
        var view = self[...]
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
