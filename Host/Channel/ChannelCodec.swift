/// A message one side of the channel sends: written field by field with a
/// ChannelWriter, read back with a ChannelReader (see the +Codec files).
public protocol ChannelMessage: Equatable {
    /// The message's name, for logs and errors.
    var kind: String { get }
    /// The largest encoded message of this direction either end accepts
    /// (ChannelProtocol says why the two directions differ).
    static var maximumBytes: Int { get }
    func encode(into writer: inout ChannelWriter)
    static func decode(from reader: inout ChannelReader) throws -> Self
}

/// Turns messages into bytes and back, whole: the one place that applies
/// the size limit and insists that a message uses every byte it came with.
public enum ChannelCodec {
    public static func encode<Message: ChannelMessage>(_ message: Message) throws -> [UInt8] {
        var writer = ChannelWriter()
        message.encode(into: &writer)
        guard !writer.overflowed, writer.bytes.count <= Message.maximumBytes else {
            throw ChannelError.tooLarge(kind: message.kind, bytes: writer.bytes.count, limit: Message.maximumBytes)
        }
        return writer.bytes
    }

    public static func decode<Message: ChannelMessage>(_ bytes: [UInt8], as type: Message.Type = Message.self) throws -> Message {
        guard bytes.count <= Message.maximumBytes else {
            throw ChannelError.tooLarge(kind: "received", bytes: bytes.count, limit: Message.maximumBytes)
        }
        var reader = ChannelReader(bytes)
        let message = try Message.decode(from: &reader)
        guard reader.remaining == 0 else {
            throw reader.malformed("\(reader.remaining) bytes left over after a \(message.kind) message")
        }
        return message
    }

    /// The message as the datagrams that carry it (see ChannelFraming).
    public static func datagrams<Message: ChannelMessage>(_ message: Message) throws -> [[UInt8]] {
        ChannelFraming.datagrams(for: try encode(message))
    }
}
