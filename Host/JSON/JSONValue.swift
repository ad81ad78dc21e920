
/// A small JSON tree for the host's off-hot-path needs (status documents,
/// the CLI's tables), so the berth binary needs no Foundation: every worker
/// starts without mapping it.
public indirect enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in order (status output keeps a stable, readable order).
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var numberValue: Double? { if case .number(let n) = self { return n } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }

    public func serialized() -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n):
            return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): return JSONText.quote(s)
        case .array(let items): return "[" + items.map { $0.serialized() }.joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { JSONText.quote($0.0) + ":" + $0.1.serialized() }.joined(separator: ",") + "}"
        }
    }

    /// Parses JSON text; nil when it is not valid JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? parseOrExplain(bytes)
    }

    /// Where and why a text is not JSON, for messages like
    /// "plugins.d/x.json:3:14: expected ',' or '}' in an object".
    public struct SyntaxError: Error, CustomStringConvertible {
        public let reason: String
        public let line: Int
        public let column: Int
        public var description: String { "\(line):\(column): \(reason)" }
    }

    public static func parseOrExplain(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            do {
                _ = try scanner.scanValue()
                scanner.skipWhitespace()
                if !scanner.atEnd { throw scanner.fail("unexpected text after the JSON value") }
            } catch let failure as JSONScanner.Failure {
                let before = buffer[..<min(failure.offset, buffer.count)]
                let line = before.filter { $0 == 0x0A }.count + 1
                let column = failure.offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
                throw SyntaxError(reason: failure.message, line: line, column: column)
            }
            var index = 0
            return build(buffer, &index)
        }
    }

    /// Builds from text the scanner has already validated.
    private static func build(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> JSONValue {
        func skip() { while i < b.count, [0x20, 0x09, 0x0A, 0x0D].contains(b[i]) { i += 1 } }
        func string() -> String {
            var scanner = JSONScanner(b)
            scanner.index = i
            let (range, escaped) = try! scanner.scanString()
            i = scanner.index
            let content = UnsafeBufferPointer(rebasing: b[range])
            return String(decoding: escaped ? JSONScanner.unescape(content) : Array(content), as: UTF8.self)
        }
        skip()
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, JSONValue)] = []
            skip()
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skip()
                let key = string()
                skip()
                i += 1 // ':'
                members.append((key, build(b, &i)))
                skip()
                let separator = b[i]
                i += 1
                if separator == UInt8(ascii: "}") { return .object(members) }
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skip()
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(build(b, &i))
                skip()
                let separator = b[i]
                i += 1
                if separator == UInt8(ascii: "]") { return .array(items) }
            }
        case UInt8(ascii: "\""): return .string(string())
        case UInt8(ascii: "t"): i += 4; return .bool(true)
        case UInt8(ascii: "f"): i += 5; return .bool(false)
        case UInt8(ascii: "n"): i += 4; return .null
        default:
            let start = i
            while i < b.count, !",]} \t\r\n".utf8.contains(b[i]) { i += 1 }
            return .number(Double(String(decoding: b[start..<i], as: UTF8.self)) ?? 0)
        }
    }
}
