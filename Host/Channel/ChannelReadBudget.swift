/// How much one read of a channel may take before it yields, so that one
/// worker flooding its channel cannot hold the host's single thread: the
/// host's loop is level-triggered (EventLoop adds no EPOLLET), so what is
/// left is read on its next turn, after every other ready descriptor.
public struct ChannelReadBudget {
    /// Whole messages still to take (each becomes an event for the slot
    /// machine, which may act on it).
    public var messages: Int
    /// Datagrams still to read, whole messages or parts (each copies up to
    /// ChannelProtocol.datagramBytes).
    public var datagrams: Int

    public init(messages: Int, datagrams: Int) {
        self.messages = messages
        self.datagrams = datagrams
    }

    /// Whether nothing more may be read now.
    public var isSpent: Bool { messages <= 0 || datagrams <= 0 }

    /// No bound: for a caller that reads everything (a worker from the host).
    public static let unbounded = ChannelReadBudget(messages: .max, datagrams: .max)

    /// One wakeup of the host for a worker's channel: far more than a
    /// worker sends in its life (loaded, a few tokens-applied), and one
    /// largest worker message.
    public static let perWakeup = ChannelReadBudget(messages: 64,
                                                    datagrams: ChannelProtocol.maximumWorkerMessageBytes / ChannelProtocol.datagramBytes + 1)

    /// The last read of a reaped worker's channel: more than its socket
    /// can hold (a datagram takes at least several hundred bytes of the
    /// sender's 208 KiB buffer), so what the worker sent before it exited
    /// is all read; a descendant still writing to the channel it inherited
    /// cannot keep the host reading.
    public static let atExit = ChannelReadBudget(messages: 4096, datagrams: 4096)
}
