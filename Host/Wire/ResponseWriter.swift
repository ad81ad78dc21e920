import BerthPOSIX

/// Writes response lines: `{"id":…,"status":…,"data":…}` or
/// `{"id":…,"status":…,"error":{"code":…,"message":…}}`, then "\n".
///
/// The plugin's body is spliced in as the bytes it gave, never parsed and
/// re-encoded; `id` is echoed as the raw JSON the client sent (null if none).
public enum ResponseWriter {
    public static func appendSuccess(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int, data: UnsafeRawBufferPointer) {
        appendHead(&out, id: id, status: status)
        out.append(contentsOf: #","data":"#.utf8)
        if data.isEmpty {
            out.append(contentsOf: "null".utf8)
        } else {
            out.append(contentsOf: data)
        }
        out.append(contentsOf: "}\n".utf8)
    }

    public static func appendError(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int, code: String, message: String) {
        appendHead(&out, id: id, status: status)
        out.append(contentsOf: #","error":{"code":"#.utf8)
        appendQuoted(&out, code)
        out.append(contentsOf: #","message":"#.utf8)
        appendQuoted(&out, message)
        out.append(contentsOf: "}}\n".utf8)
    }

    private static func appendHead(_ out: inout [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int) {
        out.append(contentsOf: #"{"id":"#.utf8)
        if let id, !id.isEmpty {
            out.append(contentsOf: id)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","status":"#.utf8)
        appendDecimal(&out, status)
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
