import Glibc

/// The request envelope: `{"id","method","path","auth_token","data","headers"}`.
///
/// Parsing records where each member's bytes are instead of copying them:
/// `data`, `id` and `headers` travel to the plugin as the raw JSON the
/// client sent. Unknown members are validated and ignored, so clients may
/// add fields.
public struct RequestEnvelope {
    /// A JSON string member: where its content is, and whether it holds
    /// escapes that must be decoded before use.
    public struct StringMember {
        public var range: Range<Int>
        public var hasEscapes: Bool
    }

    public var id: Range<Int>?
    public var method: StringMember?
    public var path: StringMember?
    public var authToken: StringMember?
    public var data: Range<Int>?
    public var headers: Range<Int>?

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
                _ = try scanner.scanValue()
                return Invalid(code: "bad_request", message: "the request must be a JSON object like {\"method\":\"GET\",\"path\":\"/x\"}")
            }
            scanner.index += 1
            scanner.skipWhitespace()
            if !scanner.atEnd && frame[scanner.index] == UInt8(ascii: "}") {
                scanner.index += 1
            } else {
                while true {
                    scanner.skipWhitespace()
                    let (key, keyEscaped) = try scanner.scanString()
                    try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                    scanner.skipWhitespace()
                    let valueStart = scanner.index
                    let isString = !scanner.atEnd && frame[valueStart] == UInt8(ascii: "\"")
                    let value = try scanner.scanValue(depth: 1)
                    if !keyEscaped { envelope.assign(key: UnsafeBufferPointer(rebasing: frame[key]), value: value, isString: isString, frame: frame) }
                    scanner.skipWhitespace()
                    guard !scanner.atEnd else { throw scanner.fail("unexpected end of input in the request object") }
                    if frame[scanner.index] == UInt8(ascii: ",") { scanner.index += 1; continue }
                    if frame[scanner.index] == UInt8(ascii: "}") { scanner.index += 1; break }
                    throw scanner.fail("expected ',' or '}' in the request object")
                }
            }
            scanner.skipWhitespace()
            if !scanner.atEnd { throw scanner.fail("unexpected bytes after the request object") }
        } catch let failure as JSONScanner.Failure {
            return Invalid(code: "invalid_json",
                           message: "request is not valid JSON: \(failure.message) at byte \(failure.offset); send one JSON object per line")
        } catch {
            return Invalid(code: "invalid_json", message: "request is not valid JSON")
        }
        return envelope.validationFailure(frame)
    }

    private mutating func assign(key: UnsafeBufferPointer<UInt8>, value: Range<Int>, isString: Bool, frame: UnsafeBufferPointer<UInt8>) {
        func stringMember() -> StringMember? {
            guard isString else { return nil }
            let content = (value.lowerBound + 1)..<(value.upperBound - 1)
            return StringMember(range: content, hasEscapes: frame[content].contains(UInt8(ascii: "\\")))
        }
        @inline(__always)
        func isKey(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == key.count && memcmp(name.utf8Start, key.baseAddress!, key.count) == 0
        }
        switch key.count {
        case 2 where isKey("id"): id = value
        case 4 where isKey("path"): path = stringMember() ?? StringMember(range: value, hasEscapes: false)
        case 4 where isKey("data"): data = value
        case 6 where isKey("method"): method = stringMember() ?? StringMember(range: value, hasEscapes: false)
        case 7 where isKey("headers"): headers = value
        case 10 where isKey("auth_token"): authToken = stringMember()
        default: break
        }
    }

    private func validationFailure(_ frame: UnsafeBufferPointer<UInt8>) -> Invalid? {
        func invalid(_ code: String, _ message: String) -> Invalid {
            Invalid(code: code, message: message, id: id)
        }
        guard let method else {
            return invalid("bad_request", "missing \"method\": add one of \(HTTPMethod.allNames)")
        }
        let methodBytes = frame[method.range]
        if frame[method.range.lowerBound - 1] != UInt8(ascii: "\"") || HTTPMethod(bytes: methodBytes) == nil {
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
        HTTPMethod(bytes: frame[method!.range])!
    }

    /// A string member's bytes, decoded when it holds escapes.
    public static func decoded(_ member: StringMember, in frame: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let content = UnsafeBufferPointer(rebasing: frame[member.range])
        return member.hasEscapes ? JSONScanner.unescape(content) : Array(content)
    }
}
