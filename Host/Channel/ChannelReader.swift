/// Reads back what ChannelWriter wrote. Every read checks that the bytes
/// are there and throws `ChannelError.malformed` saying which field and
/// where, so garbage is an error, never a crash or a huge allocation.
public struct ChannelReader {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    func malformed(_ what: String) -> ChannelError {
        .malformed("\(what) at byte \(position) of \(bytes.count)")
    }

    private mutating func take(_ count: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard count <= remaining else { throw malformed("\(field) needs \(count) bytes but \(remaining) are left") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    public mutating func byte(_ field: String) throws -> UInt8 { try take(1, field).first! }

    public mutating func bool(_ field: String) throws -> Bool {
        switch try byte(field) {
        case 0: return false
        case 1: return true
        case let other: throw malformed("\(field) is \(other), not a yes/no byte")
        }
    }

    public mutating func uint32(_ field: String) throws -> UInt32 {
        try take(4, field).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func uint64(_ field: String) throws -> UInt64 {
        try take(8, field).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func int(_ field: String) throws -> Int { Int(Int64(bitPattern: try uint64(field))) }

    public mutating func double(_ field: String) throws -> Double { Double(bitPattern: try uint64(field)) }

    /// A count of items at least `minimumItemBytes` long each: checked
    /// against what is left before anything is allocated for them.
    public mutating func count(_ field: String, minimumItemBytes: Int = 1) throws -> Int {
        let count = Int(try uint32(field))
        guard count * max(1, minimumItemBytes) <= remaining else {
            throw malformed("\(field) counts \(count) items but \(remaining) bytes are left")
        }
        return count
    }

    public mutating func bytes(_ field: String) throws -> [UInt8] {
        Array(try take(try count(field), field))
    }

    public mutating func string(_ field: String) throws -> String {
        let raw = try take(try count(field), field)
        guard let text = String(validating: raw, as: UTF8.self) else { throw malformed("\(field) is not UTF-8") }
        return text
    }

    public mutating func optional<T>(_ field: String, _ read: (inout ChannelReader) throws -> T) throws -> T? {
        try bool("\(field) present") ? try read(&self) : nil
    }

    public mutating func array<T>(_ field: String, minimumItemBytes: Int, _ read: (inout ChannelReader) throws -> T) throws -> [T] {
        let count = try count(field, minimumItemBytes: minimumItemBytes)
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try read(&self)) }
        return items
    }
}
