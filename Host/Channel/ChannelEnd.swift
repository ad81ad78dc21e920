import BerthPOSIX

/// One end of a host <-> worker channel: whole typed messages out and in
/// over its SOCK_SEQPACKET socket, cut into datagrams and joined again
/// (ChannelFraming).
///
/// The host's ends never wait (`waits` false): a receive takes only the
/// datagrams that are ready and keeps a partial message for the next
/// readiness; a send puts what the socket has no room for in a queue that
/// goes out when the socket turns writable (`attach` watches for that). A
/// worker's end waits until the worker serves; its event loop then reads
/// with `receive(waiting: false)`.
public final class ChannelEnd<Incoming: ChannelMessage, Outgoing: ChannelMessage> {
    public let fd: FileDescriptor
    private let waits: Bool
    private var reassembler = ChannelReassembler(limit: Incoming.maximumBytes)
    private var queue = OutgoingDatagrams()
    /// One datagram's room, allocated once per channel.
    private var buffer = [UInt8](repeating: 0, count: ChannelProtocol.datagramBytes)
    private weak var loop: EventLoop?
    private var watchingWritable = false
    /// A send that failed while flushing from the loop, reported by a
    /// receive once everything that did arrive has been read.
    private var failure: Error?
    public private(set) var isOpen = true

    public init(_ fd: FileDescriptor, waits: Bool) {
        self.fd = fd
        self.waits = waits
    }

    /// The end owns its descriptor: nothing else closes it, and an end
    /// dropped without `close()` must not leak it.
    deinit { close() }

    public enum Received {
        /// A whole message, and the descriptor that came with it.
        case message(Incoming, passed: FileDescriptor?)
        /// The other end closed.
        case closed
    }

    // MARK: Sending

    /// Sends a message, and `passing` (a listening socket) with it. Throws
    /// before anything is sent if the message is over the limit. On a host
    /// end, what does not fit now is queued (a passed descriptor is
    /// duplicated to outlive its owner) and sent when the socket is writable.
    public func send(_ message: Outgoing, passing: FileDescriptor? = nil) throws {
        try send(datagrams: try ChannelCodec.datagrams(message), passing: passing)
    }

    /// Sends datagrams made earlier by ChannelCodec.datagrams.
    public func send(datagrams: [[UInt8]], passing: FileDescriptor? = nil) throws {
        // After close the number may be another file's: never write to it.
        guard isOpen else { throw ChannelError.closed }
        var passing = passing
        for datagram in datagrams {
            if queue.isEmpty, try datagram.withUnsafeBytes({ try UnixSocket.sendMessage(fd, $0, passing: passing, wait: waits) }) {
                passing = nil
                continue
            }
            queue.append(datagram, passing: try passing?.duplicate())
            passing = nil
        }
        updateInterest()
    }

    public var hasQueuedOutput: Bool { !queue.isEmpty }

    /// Sends queued datagrams until the socket is full or the queue empty.
    public func flush() throws {
        guard isOpen else { throw ChannelError.closed }
        while let (datagram, passing) = queue.first {
            guard try datagram.withUnsafeBytes({ try UnixSocket.sendMessage(fd, $0, passing: passing, wait: waits) }) else { break }
            queue.removeFirst()
        }
        updateInterest()
    }

    // MARK: Receiving

    /// The next whole message; nil when none is whole yet (only when not
    /// waiting). Throws if the other end sent something this build cannot
    /// read, or a queued send failed; the channel is then of no more use.
    public func receive(waiting: Bool) throws -> Received? {
        var budget = ChannelReadBudget.unbounded
        return try receive(waiting: waiting, within: &budget)
    }

    /// The same, reading no more than `budget` allows and taking what it
    /// reads from it: nil also when it is spent, with any part of a message
    /// kept for the next call, as when the rest has not arrived yet.
    public func receive(waiting: Bool, within budget: inout ChannelReadBudget) throws -> Received? {
        guard isOpen else { throw ChannelError.closed }
        while !budget.isSpent {
            budget.datagrams -= 1
            let result = try buffer.withUnsafeMutableBytes { try UnixSocket.receiveMessage(fd, into: $0, wait: waiting) }
            switch result {
            case .wouldBlock:
                if let failure { throw failure }
                return nil
            case .end:
                reassembler.reset()
                return .closed
            case .datagram(let count, let passed):
                let whole = try buffer.withUnsafeBytes {
                    try reassembler.add(UnsafeRawBufferPointer(rebasing: $0[..<count]), passing: passed)
                }
                if let (bytes, passed) = whole {
                    budget.messages -= 1
                    do {
                        return .message(try ChannelCodec.decode(bytes, as: Incoming.self), passed: passed)
                    } catch {
                        passed?.close()
                        throw error
                    }
                }
            }
        }
        // Spent: the rest stays in the socket, which stays readable.
        return nil
    }

    /// Whether a message has begun arriving and not ended.
    public var hasPartialInput: Bool { reassembler.isPartial }

    // MARK: The event loop

    /// Watches the socket on `loop`: `readable` is called when there is
    /// input (or the other end closed, or a queued send failed), and
    /// queued output is flushed when there is room.
    public func attach(to loop: EventLoop, readable: @escaping () -> Void) throws {
        // A closed end's number may be reused: epoll would watch another file.
        guard isOpen else { throw ChannelError.closed }
        self.loop = loop
        watchingWritable = hasQueuedOutput
        try loop.register(fd, watchingWritable ? [.readable, .writable] : .readable) { [weak self] events in
            guard let self else { return }
            if events.contains(.writable) {
                do {
                    try flush()
                } catch {
                    // Nothing more can go out; what came in is still read.
                    failure = error
                    queue.removeAll()
                    updateInterest()
                }
            }
            if !events.isDisjoint(with: [.readable, .hangup]) || failure != nil { readable() }
        }
    }

    private func updateInterest() {
        guard let loop, isOpen, watchingWritable != hasQueuedOutput else { return }
        watchingWritable = hasQueuedOutput
        loop.modify(fd, watchingWritable ? [.readable, .writable] : .readable)
    }

    /// Stops watching, drops queued output and any partial input, closes.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        loop?.unregister(fd)
        loop = nil
        queue.removeAll()
        reassembler.reset()
        fd.close()
    }
}

/// The host's end of a worker's channel.
public typealias HostChannelEnd = ChannelEnd<WorkerMessage, HostMessage>
/// A worker's end of its channel to the host.
public typealias WorkerChannelEnd = ChannelEnd<HostMessage, WorkerMessage>
