import Glibc

/// The request envelope: `{"id","method","path","auth_token","data","headers"}`.
///
/// Parsing records where each member's bytes are instead of copying them:
/// `data`, `id` and `headers` travel to the plugin as the raw JSON the
/// client sent. Unknown members are validated and ignored, so clients may
/// add fields.
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
    public struct Invalid: Error {
        public var code: String
        public var message: String
        public var id: Range<Int>?
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
        var scanner = JSONScanner(pending)
        while !scanner.atEnd {
            let byte = pending[scanner.index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0D else { break }
            scanner.index += 1
        }
        guard !scanner.atEnd, pending[scanner.index] == UInt8(ascii: "{") else { return nil }
        do {
            try envelope.scanMembers(&scanner, pending)
        } catch {
            return nil
        }
        let length = scanner.index
        // A '\n' would have ended the frame for the framer; a rare '\r' is
        // left to the general path too, so `spansLines` stays false here.
        if scanner.sawLineBreak { return nil }
        var consumed = length
        if consumed < pending.count && pending[consumed] == 0x0D { consumed += 1 }
        if consumed < pending.count && pending[consumed] == 0x0A { consumed += 1 }
        let frame = UnsafeBufferPointer(rebasing: pending[0..<length])
        return (RequestFramer.Frame(length: length, consumed: consumed), envelope.validationFailure(frame))
    }

    /// Scans the request object from its opening brace to just past its
    /// closing one, recording the members Berth reads.
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
            if !keyEscaped { assign(key: UnsafeBufferPointer(rebasing: frame[key]), value: value, string: string) }
            scanner.skipWhitespace()
            guard !scanner.atEnd else { throw scanner.fail("unexpected end of input in the request object") }
            if frame[scanner.index] == UInt8(ascii: ",") { scanner.index += 1; continue }
            if frame[scanner.index] == UInt8(ascii: "}") { scanner.index += 1; return }
            throw scanner.fail("expected ',' or '}' in the request object")
        }
    }

    /// `string` is the member's content when its value is a string.
    private mutating func assign(key: UnsafeBufferPointer<UInt8>, value: Range<Int>, string: StringMember?) {
        @inline(__always)
        func isKey(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == key.count && memcmp(name.utf8Start, key.baseAddress!, key.count) == 0
        }
        switch key.count {
        case 2 where isKey("id"): id = value
        case 4 where isKey("path"): path = string ?? StringMember(range: value, hasEscapes: false)
        case 4 where isKey("data"): data = value
        case 6 where isKey("method"): method = string ?? StringMember(range: value, hasEscapes: false)
        case 7 where isKey("headers"): headers = value
        case 10 where isKey("auth_token"): authToken = string
        default: break
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
        validMethod = frame[method.range.lowerBound - 1] == UInt8(ascii: "\"") ? HTTPMethod(bytes: methodBytes) : nil
        if validMethod == nil {
            let shown = String(decoding: methodBytes.prefix(32), as: UTF8.self)
            return invalid("bad_request", "unknown method \(shown): use one of \(HTTPMethod.allNames)")
        }
        guard let path else {
            return invalid("bad_request", "missing \"path\": add a path starting with '/', like \"/hello/bob\"")
        }
        if frame[path.range.lowerBound - 1] != UInt8(ascii: "\"") || path.range.isEmpty || frame[path.range.lowerBound] != UInt8(ascii: "/") {
            return invalid("bad_request", "\"path\" must be a string starting with '/', like \"/hello/bob\"")
        }
        if let headers, frame[headers.lowerBound] != UInt8(ascii: "{") {
            return invalid("bad_request", "\"headers\" must be a JSON object of strings")
        }
        return nil
    }

    /// The method, once parse() has succeeded.
    public func httpMethod(in frame: UnsafeBufferPointer<UInt8>) -> HTTPMethod {
        validMethod ?? HTTPMethod(bytes: frame[method!.range])!
    }

    /// A string member's bytes, decoded when it holds escapes.
    public static func decoded(_ member: StringMember, in frame: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let content = UnsafeBufferPointer(rebasing: frame[member.range])
        return member.hasEscapes ? JSONScanner.unescape(content) : Array(content)
    }
}
