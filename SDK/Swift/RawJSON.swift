/// JSON text passed through untouched, e.g. a request's `data` echoed back.
///
/// Deliberately not `Encodable`: a handler returning `RawJSON` must send the
/// bytes as they are, never as a JSON-encoded string, and keeping the type
/// out of `Encodable` makes the route overloads unambiguous.
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    /// The JSON text as UTF-8 bytes. Empty means JSON `null`.
    public let bytes: [UInt8]

    /// Wraps JSON text. It is not validated: the caller vouches for it.
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// Wraps JSON text given as UTF-8 bytes, not validated.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// JSON `null` (no bytes): what the host sends when a body is absent.
    public static let null = RawJSON(bytes: [])

    /// True when there are no bytes, i.e. the value is `null`.
    public var isNull: Bool { bytes.isEmpty }

    /// The JSON text, `"null"` when empty.
    public var string: String { isNull ? "null" : String(decoding: bytes, as: UTF8.self) }

    /// The JSON text, as `string`.
    public var description: String { string }
}
