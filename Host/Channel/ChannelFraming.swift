import BerthPOSIX

/// How a message travels as SOCK_SEQPACKET datagrams: each datagram is a
/// header byte and a piece of the message, at most
/// ChannelProtocol.datagramBytes in all. The header says whether more
/// pieces follow, so a message larger than any one datagram (or than the
/// socket's buffer) passes whole, and a datagram never arrives cut.
public enum ChannelFraming {
    /// Another piece of this message follows.
    static let more: UInt8 = 0x4D // "M"
    /// This piece ends the message.
    static let last: UInt8 = 0x45 // "E"

    static var pieceBytes: Int { ChannelProtocol.datagramBytes - 1 }

    /// Cuts an encoded message into its datagrams (one for an empty or
    /// small message).
    public static func datagrams(for message: [UInt8]) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        datagrams.reserveCapacity(message.count / pieceBytes + 1)
        var start = 0
        repeat {
            let end = min(start + pieceBytes, message.count)
            var datagram = [end == message.count ? last : more]
            datagram.append(contentsOf: message[start..<end])
            datagrams.append(datagram)
            start = end
        } while start < message.count
        return datagrams
    }
}

/// Joins datagrams back into messages, one partial message at a time:
/// what each end keeps between reads. A socket that came with any piece
/// comes out with the message (extra ones are closed).
public struct ChannelReassembler {
    private var partial: [UInt8] = []
    private var passed: FileDescriptor?
    /// The largest message it joins: the incoming direction's limit.
    private let limit: Int

    public init(limit: Int = ChannelProtocol.maximumMessageBytes) {
        self.limit = limit
    }

    /// Whether a message has begun and not ended.
    public var isPartial: Bool { !partial.isEmpty || passed != nil }

    /// Takes one datagram; returns the message it completes, if any.
    /// Throws on a bad header or a message growing past the limit, after
    /// dropping the partial message (and closing its socket).
    public mutating func add(_ datagram: UnsafeRawBufferPointer, passing fd: FileDescriptor? = nil) throws
        -> (message: [UInt8], fd: FileDescriptor?)? {
        if let fd {
            if passed == nil { passed = fd } else { fd.close() }
        }
        guard let header = datagram.first, header == ChannelFraming.more || header == ChannelFraming.last else {
            reset()
            throw ChannelError.malformed("a datagram starts with \(datagram.first.map { "byte \($0)" } ?? "nothing") instead of a frame header")
        }
        guard datagram.count <= ChannelProtocol.datagramBytes else {
            reset()
            throw ChannelError.datagramTooLarge
        }
        guard partial.count + datagram.count - 1 <= limit else {
            let size = partial.count + datagram.count - 1
            reset()
            throw ChannelError.tooLarge(kind: "incoming", bytes: size, limit: limit)
        }
        partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: datagram[1...]))
        guard header == ChannelFraming.last else { return nil }
        defer {
            partial = []
            passed = nil
        }
        return (partial, passed)
    }

    /// Drops the partial message (the channel closed or broke).
    public mutating func reset() {
        partial = []
        passed?.close()
        passed = nil
    }
}
