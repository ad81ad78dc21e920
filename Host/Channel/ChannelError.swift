/// Why a channel message could not be sent or received. Each says what
/// went wrong in words a log reader can act on; the caller adds which
/// plugin and worker.
public enum ChannelError: Error, CustomStringConvertible, Equatable {
    /// A message over the limit for its direction (`limit`: the host's
    /// messages may be larger than a worker's, see ChannelProtocol),
    /// refused whole.
    case tooLarge(kind: String, bytes: Int, limit: Int = ChannelProtocol.maximumMessageBytes)
    /// Bytes that are not a message this build sends.
    case malformed(String)
    /// A datagram larger than ChannelProtocol.datagramBytes.
    case datagramTooLarge
    /// The end was closed: its descriptor number may already name another
    /// file, so nothing may be sent, received or watched through it.
    case closed

    public var description: String {
        switch self {
        case .tooLarge(let kind, let bytes, let limit):
            return "the \(kind) message is \(bytes) bytes, over the channel's limit of \(limit) bytes (\(limit >> 20) MiB)"
        case .malformed(let what):
            return "malformed channel message: \(what)"
        case .datagramTooLarge:
            return "a channel datagram is larger than \(ChannelProtocol.datagramBytes) bytes; both ends must be the same berth build"
        case .closed:
            return "the channel is closed (the worker is stopping or gone); a new worker gets a new channel"
        }
    }
}
