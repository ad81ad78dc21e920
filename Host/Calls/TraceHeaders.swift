import BerthJSON
import BerthSupport

/// The trace members of a request's "headers" object: read from a request
/// a worker serves, and written into the headers of a call it makes, where
/// the host's continuation of the trace replaces whatever the plugin put
/// there (a plugin cannot start a call off a trace, or forward a
/// traceparent it was sent unchecked).
public enum TraceHeaders {
    /// The request's trace context, continued: a valid `traceparent` in
    /// `headers` gives the same trace with a new span id of this request's
    /// own; an invalid or missing one gives a new trace when `startNew`,
    /// else nil. `tracestate` comes along only with a valid traceparent
    /// (W3C: a tracestate without its traceparent means nothing), capped.
    public static func continued(from headers: UnsafeBufferPointer<UInt8>?, startNew: Bool) -> (context: TraceContext, state: String)? {
        var parent: TraceContext?
        var state = ""
        if let headers, !headers.isEmpty {
            for member in JSONObjectMembers.valueRanges(headers) where member.key == "traceparent" || member.key == "tracestate" {
                guard let text = string(UnsafeBufferPointer(rebasing: headers[member.value])) else { continue }
                if member.key == "traceparent" { parent = TraceContext.parse(traceparent: text) } else { state = TraceContext.cappedState(text) }
            }
        }
        if let parent { return (parent.child(), state) }
        return startNew ? (TraceContext.start(), "") : nil
    }

    /// A call's "headers" object: the plugin's own members (raw JSON
    /// object text; empty for none) without any traceparent or tracestate,
    /// then the trace's. `headers` must be a JSON object (checked by the
    /// caller); members are copied as written.
    public static func merged(_ headers: UnsafeBufferPointer<UInt8>?, traceparent: String, tracestate: String) -> [UInt8] {
        var out: [UInt8] = Array("{\"traceparent\":".utf8) + Array(JSONText.quote(traceparent).utf8)
        if !tracestate.isEmpty { out += Array(",\"tracestate\":".utf8) + Array(JSONText.quote(tracestate).utf8) }
        if let headers, !headers.isEmpty {
            for member in JSONObjectMembers.valueRanges(headers) where member.key != "traceparent" && member.key != "tracestate" {
                out += Array(",".utf8) + Array(JSONText.quote(member.key).utf8) + [UInt8(ascii: ":")]
                out += headers[member.value]
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The decoded bytes of a JSON string value; nil for other values.
    private static func string(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard raw.count >= 2, raw.first == UInt8(ascii: "\""), raw.last == UInt8(ascii: "\"") else { return nil }
        let inner = UnsafeBufferPointer(rebasing: raw[1..<(raw.count - 1)])
        return inner.contains(UInt8(ascii: "\\")) ? JSONScanner.unescape(inner) : Array(inner)
    }
}
