import BerthJSON
import Glibc

/// The request envelope: `{"id","method","path","auth_token","data","headers"}`.
///
/// Parsing records where each member's bytes are instead of copying them:
/// `data`, `id` and `headers` travel to the plugin as the raw JSON the
/// client sent. Unknown members are validated and ignored, so clients may
/// add fields.
///
/// Keys and the string members Berth reads mean what JSON says they mean:
/// PHP's json_encode writes "/echo" as "\/echo", and a key or a method may
/// hold \u escapes. Escapes are rare, so only a string in which the walk
/// saw a backslash is decoded (a copy); every other one is used in place.
public struct RequestEnvelope: Equatable {
    /// A JSON string member: where its content is, and whether it holds
    /// escapes that must be decoded before use.
    public struct StringMember: Equatable {
        public var range: Range<Int>
        public var hasEscapes: Bool
    }

    public var id: Range<Int>?
    public var method: StringMember?
    public var path: StringMember?
    public var authToken: StringMember?
    public var data: Range<Int>?
    public var headers: Range<Int>?
    /// The frame has a raw '\r' or '\n' between tokens (so `data` may).
    public var spansLines = false
    /// `method` as a method, once validated.
    public private(set) var validMethod: HTTPMethod?

    public init() {}

    /// Why a frame is not a usable request. `id` is filled when the frame
    /// was an object with an id, so even an error answer carries it.
    /// A class: every request carries an `Invalid?`, and as a struct of two
    /// strings its nil was copied and destroyed field by field each time.
    public final class Invalid: Error, Sendable {
        public let code: String
        public let message: String
        public let id: Range<Int>?

        init(code: String, message: String, id: Range<Int>? = nil) {
            self.code = code
            self.message = message
            self.id = id
        }
    }

    /// Parses and validates one frame.
    public static func parse(_ frame: UnsafeBufferPointer<UInt8>) -> Result<RequestEnvelope, Invalid> {
        var envelope = RequestEnvelope()
        if let invalid = parse(frame, into: &envelope) { return .failure(invalid) }
        return .success(envelope)
    }

    /// The request path's form: fills `envelope` (fresh) and returns nil, or
    /// returns why the frame is unusable. No large value is returned or
    /// copied on success.
    public static func parse(_ frame: UnsafeBufferPointer<UInt8>, into envelope: inout RequestEnvelope) -> Invalid? {
        if let base = frame.baseAddress {
            var lineBreak = false
            let start = JSONSkipper.skipSpace(base, frame.count, 0, &lineBreak)
            if start < frame.count, base[start] == UInt8(ascii: "{"),
               let end = envelope.skimMembers(base, frame.count, from: start, lineBreak: &lineBreak),
               JSONSkipper.skipSpace(base, frame.count, end, &lineBreak) == frame.count {
                envelope.spansLines = lineBreak
                return envelope.validationFailure(frame)
            }
            envelope = RequestEnvelope()
        }
        // Not a valid request object: the explaining walk says why.
        var scanner = JSONScanner(frame)
        do {
            scanner.skipWhitespace()
            guard !scanner.atEnd, frame[scanner.index] == UInt8(ascii: "{") else {
                // Tell "valid JSON but not an object" from "not JSON".
                // "0x" or "[1] junk" is not JSON at all: say invalid_json.
                _ = try scanner.scanValue()
                scanner.skipWhitespace()
                if !scanner.atEnd { throw scanner.fail("unexpected bytes after the value") }
                return Invalid(code: "bad_request", message: "the request must be a JSON object like {\"method\":\"GET\",\"path\":\"/x\"}")
            }
            try envelope.scanMembers(&scanner, frame)
            scanner.skipWhitespace()
            if !scanner.atEnd { throw scanner.fail("unexpected bytes after the request object") }
            envelope.spansLines = scanner.sawLineBreak
        } catch let failure as JSONScanner.Failure {
            return Invalid(code: "invalid_json",
                           message: "request is not valid JSON: \(failure.message) at byte \(failure.offset); send one JSON object per line")
        } catch {
            return Invalid(code: "invalid_json", message: "request is not valid JSON")
        }
        return envelope.validationFailure(frame)
    }

    /// Frames and parses in one walk over the bytes, for the common case of
    /// a whole, valid request object at the start of `pending`: the frame
    /// ends where the object closes (plus the line end that follows, if it
    /// has arrived), exactly where RequestFramer would end it.
    ///
    /// Returns nil whenever the answer could differ from RequestFramer's:
    /// the object is incomplete, not an object, not valid JSON, or has a raw
    /// newline between its tokens (which ends a request early for the
    /// framer). The caller then frames with RequestFramer and parses the
    /// frame with `parse(_:into:)`, which finds the same error, if any.
    public static func parseLeadingObject(_ pending: UnsafeBufferPointer<UInt8>, into envelope: inout RequestEnvelope)
        -> (frame: RequestFramer.Frame, invalid: Invalid?)? {
        guard let base = pending.baseAddress else { return nil }
        var start = 0
        while start < pending.count {
            let byte = base[start]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0D else { break }
            start += 1
        }
        guard start < pending.count, base[start] == UInt8(ascii: "{") else { return nil }
        var lineBreak = false
        guard let length = envelope.skimMembers(base, pending.count, from: start, lineBreak: &lineBreak) else { return nil }
        // A '\n' would have ended the frame for the framer; a rare '\r' is
        // left to the general path too, so `spansLines` stays false here.
        if lineBreak { return nil }
        var consumed = length
        if consumed < pending.count && pending[consumed] == 0x0D { consumed += 1 }
        if consumed < pending.count && pending[consumed] == 0x0A { consumed += 1 }
        let frame = UnsafeBufferPointer(rebasing: pending[0..<length])
        return (RequestFramer.Frame(length: length, consumed: consumed), envelope.validationFailure(frame))
    }

    /// Walks the request object from its opening brace at `start` and
    /// returns the index just past its closing one, recording the members
    /// Berth reads; nil where scanMembers would throw. Every request takes
    /// this walk: it is JSONSkipper's loop over locals, where scanMembers
    /// goes through a JSONScanner to be able to say what is wrong.
    private mutating func skimMembers(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int, lineBreak: inout Bool) -> Int? {
        var i = JSONSkipper.skipSpace(p, n, start + 1, &lineBreak)
        if i < n && p[i] == UInt8(ascii: "}") { return i + 1 }
        while true {
            i = JSONSkipper.skipSpace(p, n, i, &lineBreak)
            guard i < n, p[i] == UInt8(ascii: "\"") else { return nil }
            let member: Member
            let keyEnd: Int
            if let (known, end) = Self.plainKey(p, n, i) {
                member = known
                keyEnd = end
            } else {
                var keyEscaped = false
                guard let end = JSONSkipper.skipString(p, n, i, &keyEscaped) else { return nil }
                let key = UnsafeBufferPointer(start: p + i + 1, count: end - i - 2)
                member = keyEscaped ? Member(escaped: key) : Member(key)
                keyEnd = end
            }
            i = JSONSkipper.skipSpace(p, n, keyEnd, &lineBreak)
            guard i < n, p[i] == UInt8(ascii: ":") else { return nil }
            i = JSONSkipper.skipSpace(p, n, i + 1, &lineBreak)
            guard i < n else { return nil }
            let valueStart = i
            var string: StringMember?
            if p[i] == UInt8(ascii: "\"") {
                var escaped = false
                guard let end = JSONSkipper.skipString(p, n, i, &escaped) else { return nil }
                string = StringMember(range: (i + 1)..<(end - 1), hasEscapes: escaped)
                i = end
            } else {
                guard let end = JSONSkipper.skipValue(p, count: n, from: i, depth: 1, lineBreak: &lineBreak) else { return nil }
                i = end
            }
            store(member, value: valueStart..<i, string: string)
            i = JSONSkipper.skipSpace(p, n, i, &lineBreak)
            guard i < n else { return nil }
            if p[i] == UInt8(ascii: ",") {
                i += 1
            } else if p[i] == UInt8(ascii: "}") {
                return i + 1
            } else {
                return nil
            }
        }
    }

    /// Scans the request object from its opening brace to just past its
    /// closing one, recording the members Berth reads, and throws what is
    /// wrong when it is not valid JSON.
    private mutating func scanMembers(_ scanner: inout JSONScanner, _ frame: UnsafeBufferPointer<UInt8>) throws {
        scanner.index += 1
        scanner.skipWhitespace()
        if !scanner.atEnd && frame[scanner.index] == UInt8(ascii: "}") {
            scanner.index += 1
            return
        }
        while true {
            scanner.skipWhitespace()
            let (key, keyEscaped) = try scanner.scanString()
            try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
            scanner.skipWhitespace()
            let value: Range<Int>
            var string: StringMember?
            if !scanner.atEnd && frame[scanner.index] == UInt8(ascii: "\"") {
                let (content, hasEscapes) = try scanner.scanString()
                value = (content.lowerBound - 1)..<(content.upperBound + 1)
                string = StringMember(range: content, hasEscapes: hasEscapes)
            } else {
                value = try scanner.scanValue(depth: 1)
            }
            let keyBytes = UnsafeBufferPointer(rebasing: frame[key])
            store(keyEscaped ? Member(escaped: keyBytes) : Member(keyBytes), value: value, string: string)
            scanner.skipWhitespace()
            guard !scanner.atEnd else { throw scanner.fail("unexpected end of input in the request object") }
            if frame[scanner.index] == UInt8(ascii: ",") { scanner.index += 1; continue }
            if frame[scanner.index] == UInt8(ascii: "}") { scanner.index += 1; return }
            throw scanner.fail("expected ',' or '}' in the request object")
        }
    }

    /// The members Berth reads; `other` for any member it ignores.
    enum Member {
        case id, method, path, data, headers, authToken, other

        init(_ key: UnsafeBufferPointer<UInt8>) {
            @inline(__always)
            func isKey(_ name: StaticString) -> Bool {
                name.utf8CodeUnitCount == key.count && memcmp(name.utf8Start, key.baseAddress!, key.count) == 0
            }
            switch key.count {
            case 2 where isKey("id"): self = .id
            case 4 where isKey("path"): self = .path
            case 4 where isKey("data"): self = .data
            case 6 where isKey("method"): self = .method
            case 7 where isKey("headers"): self = .headers
            case 10 where isKey("auth_token"): self = .authToken
            default: self = .other
            }
        }

        /// A key written with escapes ("p\u0061th" is "path"): decoded
        /// first, off the common path.
        @inline(never)
        init(escaped key: UnsafeBufferPointer<UInt8>) {
            self = JSONScanner.unescape(key).withUnsafeBufferPointer { Member($0) }
        }
    }

    /// The member whose key, quotes included, starts at `i`, when it is one
    /// Berth reads spelt plainly, with the index past its closing quote:
    /// compared as whole words, which costs less than skipping the key as
    /// a string and then looking its name up. nil otherwise (the caller
    /// then takes the general path, which gives the same answer).
    @inline(__always)
    private static func plainKey(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int) -> (Member, Int)? {
        guard i &+ 8 <= n else { return nil }
        let raw = UnsafeRawPointer(p + i)
        // Little-endian words of the quoted keys (first byte lowest).
        let word = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        if word == 0x2264_6f68_7465_6d22 { return (.method, i &+ 8) }              // "method"
        switch word & 0xFFFF_FFFF_FFFF {
        case 0x2268_7461_7022: return (.path, i &+ 6)                            // "path"
        case 0x2261_7461_6422: return (.data, i &+ 6)                            // "data"
        default: break
        }
        if word & 0xFFFF_FFFF == 0x2264_6922 { return (.id, i &+ 4) }             // "id"
        if word == 0x6f74_5f68_7475_6122, i &+ 12 <= n,                          // "auth_to
           UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == 0x226e_656b {   // ken"
            return (.authToken, i &+ 12)
        }
        if word == 0x7372_6564_6165_6822, i &+ 9 <= n, p[i &+ 8] == UInt8(ascii: "\"") {             // "headers"
            return (.headers, i &+ 9)
        }
        return nil
    }

    /// `string` is the member's content when its value is a string.
    private mutating func store(_ member: Member, value: Range<Int>, string: StringMember?) {
        switch member {
        case .id: id = value
        case .path: path = string ?? StringMember(range: value, hasEscapes: false)
        case .data: data = value
        case .method: method = string ?? StringMember(range: value, hasEscapes: false)
        case .headers: headers = value
        case .authToken: authToken = string
        case .other: break
        }
    }

    private mutating func validationFailure(_ frame: UnsafeBufferPointer<UInt8>) -> Invalid? {
        func invalid(_ code: String, _ message: String) -> Invalid {
            Invalid(code: code, message: message, id: id)
        }
        guard let method else {
            return invalid("bad_request", "missing \"method\": add one of \(HTTPMethod.allNames)")
        }
        let methodBytes = frame[method.range]
        let methodIsString = frame[method.range.lowerBound - 1] == UInt8(ascii: "\"")
        if methodIsString {
            validMethod = method.hasEscapes ? HTTPMethod(bytes: Self.decoded(method, in: frame)) : HTTPMethod(bytes: methodBytes)
        } else {
            validMethod = nil
        }
        if validMethod == nil {
            let shown = String(decoding: methodBytes.prefix(32), as: UTF8.self)
            return invalid("bad_request", "unknown method \(shown): use one of \(HTTPMethod.allNames)")
        }
        guard let path else {
            return invalid("bad_request", "missing \"path\": add a path starting with '/', like \"/hello/bob\"")
        }
        if frame[path.range.lowerBound - 1] != UInt8(ascii: "\"") || !Self.startsWithSlash(path, in: frame) {
            return invalid("bad_request", "\"path\" must be a string starting with '/', like \"/hello/bob\"")
        }
        if let headers, frame[headers.lowerBound] != UInt8(ascii: "{") {
            return invalid("bad_request", "\"headers\" must be a JSON object of strings")
        }
        return nil
    }

    /// Whether a string member's decoded text starts with '/': "\/x" and
    /// "\u002Fx" do, as "/x" does.
    @inline(__always)
    private static func startsWithSlash(_ member: StringMember, in frame: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = frame[member.range].first else { return false }
        if first == UInt8(ascii: "/") { return true }
        return first == UInt8(ascii: "\\") && decoded(member, in: frame).first == UInt8(ascii: "/")
    }

    /// The method, once parse() has succeeded.
    public func httpMethod(in frame: UnsafeBufferPointer<UInt8>) -> HTTPMethod {
        validMethod ?? HTTPMethod(bytes: Self.decoded(method!, in: frame))!
    }

    /// A string member's bytes, decoded when it holds escapes.
    public static func decoded(_ member: StringMember, in frame: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let content = UnsafeBufferPointer(rebasing: frame[member.range])
        return member.hasEscapes ? JSONScanner.unescape(content) : Array(content)
    }
}
