import BerthJSON

/// Splits a connection's byte stream into requests.
///
/// A request ends at a newline, or where its top-level JSON object (or
/// array) closes: the seed's PHP client sends one object with no newline and
/// waits for the answer, so waiting for "\n" would hang it. A raw newline
/// cannot occur inside a valid request (JSON escapes it in strings), so a
/// newline always ends one, which keeps a malformed line from swallowing the
/// next.
///
/// The framer remembers how far it scanned, so bytes arriving in pieces are
/// looked at once.
public struct RequestFramer {
    public struct Frame: Equatable {
        /// Bytes of the request (may start with whitespace).
        public var length: Int
        /// Bytes to drop from the stream: the request plus its terminator.
        public var consumed: Int
    }

    private var position = 0
    private var started = false
    private var container = false
    private var depth = 0
    private var inString = false
    private var escaped = false

    public init() {}

    /// How many bytes of the pending request have been scanned.
    public var scanned: Int { position }

    /// Scans `bytes`, which start at the first unconsumed byte and are the
    /// same bytes (plus more) as on the previous call, until a frame ends.
    /// Returns nil when more bytes are needed.
    public mutating func next(_ bytes: UnsafeBufferPointer<UInt8>) -> Frame? {
        var i = position
        let count = bytes.count
        guard let base = bytes.baseAddress else { return nil }
        while i < count {
            if inString && !escaped {
                i = PlainBytes.skip(base, from: i, to: count)
                if i == count { break }
            }
            let byte = bytes[i]
            if inString {
                // A newline ends the frame even right after a backslash:
                // "\<newline>" is no escape, and letting it through made a
                // malformed line swallow the start of the next request.
                if byte == UInt8(ascii: "\n") {
                    return finish(length: i, consumed: i + 1)
                } else if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                i += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\n"):
                return finish(length: i, consumed: i + 1)
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                if !started {
                    started = true
                    container = byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[")
                    if container { depth = 1 }
                } else if container {
                    switch byte {
                    case UInt8(ascii: "\""):
                        inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            // Swallow the line end that usually follows.
                            var end = i + 1
                            if end < count && bytes[end] == UInt8(ascii: "\r") { end += 1 }
                            if end < count && bytes[end] == UInt8(ascii: "\n") { end += 1 }
                            return finish(length: i + 1, consumed: end)
                        }
                    default:
                        break
                    }
                }
            }
            i += 1
        }
        position = i
        return nil
    }

    /// At end of stream: whatever non-blank bytes are left form a last frame.
    public mutating func finishAtEndOfStream(_ bytes: UnsafeBufferPointer<UInt8>) -> Frame? {
        if let frame = next(bytes) { return frame }
        let blank = bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        return blank ? nil : finish(length: bytes.count, consumed: bytes.count)
    }

    private mutating func finish(length: Int, consumed: Int) -> Frame {
        self = RequestFramer()
        return Frame(length: length, consumed: consumed)
    }
}
