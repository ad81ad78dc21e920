/// Appends a message's fields as exact bytes: integers little-endian at a
/// fixed width, byte strings and arrays after a 32-bit count. What
/// ChannelReader reads back, field for field.
public struct ChannelWriter {
    public private(set) var bytes: [UInt8] = []
    /// A count did not fit 32 bits: the message is over any limit, and
    /// ChannelCodec refuses it.
    private(set) var overflowed = false

    init() {}

    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func uint32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func uint64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func int(_ value: Int) { uint64(UInt64(bitPattern: Int64(value))) }

    /// The exact bits, so any value (NaN, -0, infinities) comes back as is.
    public mutating func double(_ value: Double) { uint64(value.bitPattern) }

    public mutating func count(_ value: Int) {
        guard let fits = UInt32(exactly: value) else {
            overflowed = true
            return uint32(0)
        }
        uint32(fits)
    }

    public mutating func bytes<C: Collection>(_ value: C) where C.Element == UInt8 {
        count(value.count)
        bytes.append(contentsOf: value)
    }

    /// Its UTF-8, which every Swift string is, so it reads back equal.
    public mutating func string(_ value: String) { bytes(value.utf8) }

    public mutating func optional<T>(_ value: T?, _ write: (inout ChannelWriter, T) -> Void) {
        bool(value != nil)
        if let value { write(&self, value) }
    }

    public mutating func array<T>(_ values: [T], _ write: (inout ChannelWriter, T) -> Void) {
        count(values.count)
        for value in values { write(&self, value) }
    }
}
