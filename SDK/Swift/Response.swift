/// A status and a body, for handlers that must answer something other than
/// 200 (e.g. 201 Created). Handlers that always answer 200 can just return
/// an `Encodable` value or `RawJSON`.
public struct Response {
    /// HTTP-like status, e.g. 201.
    public var status: Int
    let body: Body

    enum Body {
        case raw(RawJSON)
        // Kept unencoded so that an encoding failure is reported as
        // 500 `encode_failed` by the dispatcher, like a plain return value.
        case value(any Encodable)
    }

    /// A response with a JSON `null` body.
    public init(status: Int) {
        self.init(status: status, body: RawJSON.null)
    }

    /// A response whose body is sent byte for byte.
    public init(status: Int = 200, body: RawJSON) {
        self.status = status
        self.body = .raw(body)
    }

    /// A response whose body is `value` encoded as JSON, exactly as
    /// `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` would.
    public init<T: Encodable>(status: Int = 200, body value: T) {
        self.status = status
        self.body = .value(value)
    }

    /// The body as JSON bytes (empty means null), for tests: a route sends
    /// it through Answer.send, which writes the same bytes. Values are
    /// written by the SDK's streaming encoder (Encoder/): what
    /// `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` gives,
    /// and its errors.
    func encodedBody() throws -> [UInt8] {
        switch body {
        case .raw(let json): return json.bytes
        case .value(let value): return try FastJSON.encode(value)
        }
    }
}
