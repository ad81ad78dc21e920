import BerthPOSIX

/// Writes response lines: `{"id":…,"status":…,"data":…}` or
/// `{"id":…,"status":…,"error":{"code":…,"message":…}}`, then "\n".
///
/// The plugin's body is spliced in as the bytes it gave, never parsed and
/// re-encoded; `id` is echoed as the raw JSON the client sent (null if none).
public enum ResponseWriter {
    public static func appendSuccess(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int, data: UnsafeRawBufferPointer) {
        appendHead(&out, id: id, status: status)
        append(&out, #","data":"#)
        if data.isEmpty {
            append(&out, "null")
        } else {
            out.append(contentsOf: data)
        }
        append(&out, "}\n")
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
