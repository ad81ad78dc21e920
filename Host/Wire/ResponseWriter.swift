import BerthJSON
import BerthPOSIX

/// Writes response lines: `{"id":…,"status":…,"data":…}` or
/// `{"id":…,"status":…,"error":{"code":…,"message":…}}`, then "\n".
///
/// The plugin's body is spliced in as the bytes it gave, never parsed and
/// re-encoded; `id` is echoed as the raw JSON the client sent (null if none).
public enum ResponseWriter {
    public static func appendSuccess(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int, data: UnsafeRawBufferPointer) {
        guard writesSuccessHead(id: id, status: status) else {
            appendHead(&out, id: id, status: status)
            append(&out, #","data":"#)
            data.isEmpty ? append(&out, "null") : out.append(contentsOf: data)
            append(&out, "}\n")
            return
        }
        // The common answer in three appends instead of eight: the part
        // before the body is put together on the stack first.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: successHeadBound) { head in
            let n = writeSuccessHead(head.baseAddress!, id: id, status: status)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: head[..<n]))
        }
        data.isEmpty ? append(&out, "null") : out.append(contentsOf: data)
        append(&out, "}\n")
    }

    /// At most this many bytes come before the body in a success line that
    /// writeSuccessLine writes (an id of up to 64 bytes).
    public static let successHeadBound = 96

    /// Whether writeSuccessLine can write this answer: a three-digit status
    /// and an id of up to 64 bytes (any other goes through appendSuccess).
    @inline(__always)
    public static func writesSuccessHead(id: UnsafeBufferPointer<UInt8>?, status: Int) -> Bool {
        (100...999).contains(status) && (id?.count ?? 0) <= 64
    }

    /// Writes a whole success line into raw memory with room for
    /// successHeadBound + the body + 6 bytes, and returns its length; for a
    /// worker's answer, which is copied out of a buffer of its own. Only
    /// when writesSuccessHead(id:status:).
    @inline(__always)
    public static func writeSuccessLine(_ out: UnsafeMutablePointer<UInt8>, id: UnsafeBufferPointer<UInt8>?, status: Int,
                                        data: UnsafeRawBufferPointer) -> Int {
        var n = writeSuccessHead(out, id: id, status: status)
        if let body = data.baseAddress, !data.isEmpty {
            UnsafeMutableRawPointer(out + n).copyMemory(from: body, byteCount: data.count)
            n += data.count
        } else {
            n += put(out + n, "null")
        }
        return n + put(out + n, "}\n")
    }

    /// `{"id":ID,"status":NNN,"data":` into `head` (successHeadBound bytes).
    @inline(__always)
    private static func writeSuccessHead(_ head: UnsafeMutablePointer<UInt8>, id: UnsafeBufferPointer<UInt8>?, status: Int) -> Int {
        var n = put(head, #"{"id":"#)
        if let id, let start = id.baseAddress, !id.isEmpty {
            (head + n).update(from: start, count: id.count)
            n += id.count
        } else {
            n += put(head + n, "null")
        }
        n += put(head + n, #","status":"#)
        head[n] = UInt8(ascii: "0") + UInt8(status / 100)
        head[n + 1] = UInt8(ascii: "0") + UInt8(status / 10 % 10)
        head[n + 2] = UInt8(ascii: "0") + UInt8(status % 10)
        n += 3
        return n + put(head + n, #","data":"#)
    }

    @inline(__always)
    private static func put(_ at: UnsafeMutablePointer<UInt8>, _ text: StaticString) -> Int {
        UnsafeMutableRawPointer(at).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        return text.utf8CodeUnitCount
    }

    public static func appendError(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int, code: String, message: String) {
        appendHead(&out, id: id, status: status)
        append(&out, #","error":{"code":"#)
        appendQuoted(&out, code)
        append(&out, #","message":"#)
        appendQuoted(&out, message)
        append(&out, "}}\n")
    }

    private static func appendHead(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int) {
        append(&out, #"{"id":"#)
        if let id, !id.isEmpty {
            out.append(contentsOf: id)
        } else {
            append(&out, "null")
        }
        append(&out, #","status":"#)
        appendDecimal(&out, status)
    }

    /// A literal's bytes, copied straight from the binary.
    @inline(__always)
    static func append(_ out: inout [UInt8], _ text: StaticString) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    static func appendDecimal(_ out: inout [UInt8], _ value: Int) {
        if value >= 100 && value < 1000 {
            out.append(UInt8(ascii: "0") + UInt8(value / 100))
            out.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
            out.append(UInt8(ascii: "0") + UInt8(value % 10))
        } else {
            out.append(contentsOf: String(value).utf8)
        }
    }

    static func appendQuoted(_ out: inout [UInt8], _ text: String) {
        out.append(contentsOf: JSONText.quote(text).utf8)
    }
}
