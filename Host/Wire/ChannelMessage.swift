/// Messages on the host <-> worker channel (a SOCK_SEQPACKET pair, one
/// message per datagram). Text, one `key value` per line after the kind, so
/// the worker needs no JSON library to speak it.
///
///     worker -> host   loaded | failed      (after loading the plugin)
///                      timeout              (its watchdog answered 504 and ends it)
///     host -> worker   serve (+ listening socket fd) | reject
public struct ChannelMessage: Equatable {
    public var kind: String
    public var fields: [(key: String, value: String)]

    public init(_ kind: String, _ fields: [(String, String)] = []) {
        self.kind = kind
        self.fields = fields.map { (key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

    public func all(_ key: String) -> [String] { fields.filter { $0.key == key }.map(\.value) }

    public func encoded() -> [UInt8] {
        var text = kind
        for field in fields {
            let flat = field.value.map { $0 == "\n" || $0 == "\r" ? " " : $0 }
            text += "\n\(field.key) \(String(flat))"
        }
        return Array(text.utf8)
    }

    public init(decoding bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        kind = lines.first.map(String.init) ?? ""
        fields = lines.dropFirst().map { line in
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            return (key: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
        }
    }

    public static func == (a: ChannelMessage, b: ChannelMessage) -> Bool {
        a.kind == b.kind && a.fields.elementsEqual(b.fields) { $0.key == $1.key && $0.value == $1.value }
    }
}
