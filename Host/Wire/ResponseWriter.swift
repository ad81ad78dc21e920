import BerthPOSIX

/// Writes response lines: `{"id":…,"status":…,"data":…}` or
/// `{"id":…,"status":…,"error":{"code":…,"message":…}}`, then "\n".
///
/// The plugin's body is spliced in as the bytes it gave, never parsed and
/// re-encoded; `id` is echoed as the raw JSON the client sent (null if none).
public enum ResponseWriter {
    public static func appendSuccess(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int, data: UnsafeRawBufferPointer) {
        guard (100...999).contains(status), id.map({ $0.count <= 64 }) ?? true else {
            appendHead(&out, id: id, status: status)
            append(&out, #","data":"#)
            data.isEmpty ? append(&out, "null") : out.append(contentsOf: data)
            append(&out, "}\n")
            return
        }
        // The common answer in three appends instead of eight: the part
        // before the body is put together on the stack first.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { head in
            var n = 0
            func put(_ text: StaticString) {
                UnsafeMutableRawPointer(head.baseAddress! + n).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
                n += text.utf8CodeUnitCount
            }
            put(#"{"id":"#)
            if let id, !id.isEmpty {
                UnsafeMutableRawPointer(head.baseAddress! + n).copyMemory(from: id.baseAddress!, byteCount: id.count)
                n += id.count
            } else {
                put("null")
            }
            put(#","status":"#)
            head[n] = UInt8(ascii: "0") + UInt8(status / 100)
            head[n + 1] = UInt8(ascii: "0") + UInt8(status / 10 % 10)
            head[n + 2] = UInt8(ascii: "0") + UInt8(status % 10)
            n += 3
            put(#","data":"#)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: head[..<n]))
        }
        data.isEmpty ? append(&out, "null") : out.append(contentsOf: data)
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
