import Foundation

// Conveniences over the raw header and query text, parsed lazily and once
// per request.

extension Request {
    /// The value of header `name`, matched case-insensitively as in HTTP;
    /// nil when absent or not a string or number.
    public func header(_ name: String) -> String? {
        let object = headerObject
        let value = object[name] ?? object.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    /// The query's `key=value` pairs, percent-decoded with `+` read as a
    /// space. When a key repeats, the last value wins; use `query` to see
    /// every occurrence.
    public var queryItems: [String: String] { queryStorage }

    static func parseObject(_ json: RawJSON) -> [String: Any] {
        guard !json.isNull,
              let object = try? JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any]
        else { return [:] }
        return object
    }
}

/// `application/x-www-form-urlencoded` parsing for `Request.queryItems`.
enum QueryString {
    static func parse(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? decode(parts[1]) : ""
            items[decode(parts[0])] = value
        }
        return items
    }

    /// A malformed escape ("%zz") is kept as typed rather than dropping the
    /// whole item: the caller still sees what was sent.
    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
