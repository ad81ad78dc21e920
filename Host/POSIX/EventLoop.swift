import CBerthShims
import Glibc

/// A single-threaded epoll loop with one-shot timers. Host and workers each
/// run one; all their work happens on its thread, so nothing here locks.
public final class EventLoop {
    public struct Events: OptionSet {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        // Computed, not `static let`: the C constants are read in place,
        // where a stored static paid a swift_once check on every use (four
        // per event).
        public static var readable: Events { Events(rawValue: BERTH_EPOLLIN) }
        public static var writable: Events { Events(rawValue: BERTH_EPOLLOUT) }
        /// Error or hang-up: always reported, never needs asking for.
        public static var hangup: Events { Events(rawValue: BERTH_EPOLLHUP | BERTH_EPOLLERR) }
    }

    public typealias Handler = (Events) -> Void
    public typealias TimerID = UInt64

    private let epoll: FileDescriptor
    /// Indexed by fd number: a lookup per event without hashing.
    private var handlers: [EventHandler?] = []
    private var timers: [(deadline: UInt64, id: TimerID, action: () -> Void)] = []
    private var nextTimerID: TimerID = 1
    private var stopped = false

    public init() throws {
        epoll = FileDescriptor(rawValue: try syscall("epoll_create1") { berth_epoll_create() })
    }

    deinit { epoll.close() }

    public func register(_ fd: FileDescriptor, _ events: Events, _ handler: @escaping Handler) throws {
        try register(fd, events, ClosureHandler(handler))
    }

    /// Calls `handler` when `fd` is ready. The loop holds it until `fd` is
    /// forgotten or unregistered.
    public func register(_ fd: FileDescriptor, _ events: Events, _ handler: EventHandler) throws {
        _ = try syscall("epoll_ctl(ADD)") {
            berth_epoll_ctl(epoll.rawValue, BERTH_EPOLL_CTL_ADD, fd.rawValue, events.rawValue, UInt64(fd.rawValue))
        }
        // Only once epoll has it: a handler kept after a failed ADD would
        // hold what it captured until the descriptor number is reused.
        let index = Int(fd.rawValue)
        if index >= handlers.count { handlers.append(contentsOf: repeatElement(nil, count: index + 64 - handlers.count)) }
        handlers[index] = handler
    }

    /// Forgets `fd`'s handler without an epoll_ctl: for an fd about to be
    /// closed that was never duplicated, close(2) removes it from epoll by
    /// itself, and a connection per request makes that syscall count.
    public func forget(_ fd: FileDescriptor) {
        if Int(fd.rawValue) < handlers.count { handlers[Int(fd.rawValue)] = nil }
    }

    public func modify(_ fd: FileDescriptor, _ events: Events) {
        _ = berth_epoll_ctl(epoll.rawValue, BERTH_EPOLL_CTL_MOD, fd.rawValue, events.rawValue, UInt64(fd.rawValue))
    }

    /// Stops watching `fd` (call before closing it).
    public func unregister(_ fd: FileDescriptor) {
        _ = berth_epoll_ctl(epoll.rawValue, BERTH_EPOLL_CTL_DEL, fd.rawValue, 0, 0)
        if Int(fd.rawValue) < handlers.count { handlers[Int(fd.rawValue)] = nil }
    }

    @discardableResult
    public func schedule(afterSeconds seconds: Double, _ action: @escaping () -> Void) -> TimerID {
        let id = nextTimerID
        nextTimerID += 1
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, seconds) * 1e9)
        let index = timers.firstIndex { $0.deadline > deadline } ?? timers.endIndex
        timers.insert((deadline, id, action), at: index)
        return id
    }

    public func cancel(_ id: TimerID) {
        timers.removeAll { $0.id == id }
    }

    /// Makes `run` return after the current iteration (or at once, if it
    /// has not started: a shutdown may finish before the loop runs).
    public func stop() { stopped = true }

    /// Runs until `stop()`. Throws only if epoll_wait itself fails (the
    /// caller logs it: this module sits below the log).
    public func run() throws {
        var events = [berth_epoll_event](repeating: berth_epoll_event(), count: 128)
        while !stopped {
            let count = events.withUnsafeMutableBufferPointer {
                berth_epoll_wait(epoll.rawValue, $0.baseAddress, Int32($0.count), nextTimeoutMilliseconds())
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Errno.current("epoll_wait")
            }
            for i in 0..<Int(count) {
                let fd = Int(events[i].data)
                // A handler earlier in this batch may have closed this fd.
                guard fd < handlers.count, let handler = handlers[fd] else { continue }
                handler.handleEvents(Events(rawValue: events[i].events))
            }
            runDueTimers()
        }
    }

    private func nextTimeoutMilliseconds() -> Int32 {
        guard let first = timers.first else { return -1 }
        let now = Clock.monotonicNanoseconds()
        if first.deadline <= now { return 0 }
        return Int32(min((first.deadline - now + 999_999) / 1_000_000, 60_000))
    }

    private func runDueTimers() {
        let now = Clock.monotonicNanoseconds()
        while let first = timers.first, first.deadline <= now {
            timers.removeFirst()
            first.action()
        }
    }
}

/// What the loop calls when a descriptor it watches is ready. An object
/// rather than a closure so that a connection, kept for reuse, can be its
/// own handler: a closure per connection cost an allocation and a free.
public protocol EventHandler: AnyObject {
    func handleEvents(_ events: EventLoop.Events)
}

private final class ClosureHandler: EventHandler {
    let body: EventLoop.Handler
    init(_ body: @escaping EventLoop.Handler) { self.body = body }
    func handleEvents(_ events: EventLoop.Events) { body(events) }
}
