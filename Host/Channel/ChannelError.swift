/// Why a channel message could not be sent or received. Each says what
/// went wrong in words a log reader can act on; the caller adds which
/// plugin and worker.
public enum ChannelError: Error, CustomStringConvertible, Equatable {
    /// A message over ChannelProtocol.maximumMessageBytes, refused whole.
    case tooLarge(kind: String, bytes: Int)
    /// Bytes that are not a message this build sends.
    case malformed(String)
    /// A datagram larger than ChannelProtocol.datagramBytes.
    case datagramTooLarge

    public var description: String {
        let limit = ChannelProtocol.maximumMessageBytes
        switch self {
        case .tooLarge(let kind, let bytes):
            return "the \(kind) message is \(bytes) bytes, over the channel's limit of \(limit) bytes (\(limit >> 20) MiB)"
        case .malformed(let what):
            return "malformed channel message: \(what)"
        case .datagramTooLarge:
            return "a channel datagram is larger than \(ChannelProtocol.datagramBytes) bytes; both ends must be the same berth build"
        }
    }
}
