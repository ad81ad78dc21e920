import Glibc

/// A connection's unconsumed input: bytes are read in at the end and
/// consumed from the front; the front is compacted lazily.
///
/// It starts small and grows only as a request needs. Every byte it holds
/// beyond its first `InputBuffer.initialCapacity` is charged to its
/// server's InputBudget, which refuses growth past the server's total. A
/// buffer grown past `largestKept` is a mapping of its own, unmapped (its
/// memory given back to the system at once) as soon as it is empty again:
/// from malloc, freed memory stayed resident in the worker (1.29 GiB after
/// 1,383 clients left with unfinished 1 MiB requests).
final class InputBuffer {
    static let initialCapacity = 4096
    /// Larger buffers are mapped, and given back as soon as they are empty.
    static let largestKept = 65536

    private(set) var storage: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var start = 0
    private(set) var end = 0
    private let budget: InputBudget

    init(capacity: Int = InputBuffer.initialCapacity, budget: InputBudget = InputBudget()) {
        self.capacity = capacity
        self.budget = budget
        storage = InputBuffer.allocate(capacity)!
        budget.charge(capacity - InputBuffer.initialCapacity)
    }

    deinit {
        InputBuffer.free(storage, capacity: capacity)
        budget.refund(capacity - InputBuffer.initialCapacity)
    }

    var count: Int { end - start }

    var unconsumed: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: storage + start, count: end - start)
    }

    func consume(_ n: Int) {
        start += n
        if start == end {
            start = 0
            end = 0
            if capacity > InputBuffer.largestKept { shrink() }
        }
    }

    /// Room for at least `minimum` more bytes, growing up to `limit` total
    /// as far as the budget allows. Returns the free space (empty when the
    /// limit is reached, or the budget: see `isAtLimit`).
    func reserve(minimum: Int, limit: Int) -> UnsafeMutableRawBufferPointer {
        if capacity - end < minimum && start > 0 {
            memmove(storage, storage + start, end - start)
            end -= start
            start = 0
        }
        if capacity - end < minimum && capacity < limit {
            grow(to: min(max(capacity * 2, end + minimum), limit))
        }
        return UnsafeMutableRawBufferPointer(start: storage + end, count: capacity - end)
    }

    /// Whether a failed reserve reached the request limit (not the budget).
    func isAtLimit(_ limit: Int) -> Bool { capacity >= limit }

    func commit(_ n: Int) { end += n }

    /// Forgets what it holds (for the next connection, ConnectionPool),
    /// giving a large buffer back.
    func reset() {
        start = 0
        end = 0
        if capacity > InputBuffer.largestKept { shrink() }
    }

    private func grow(to wanted: Int) {
        let grown = wanted > InputBuffer.largestKept ? InputBuffer.pageRounded(wanted) : wanted
        guard budget.charge(grown - capacity) else { return }
        guard let fresh = InputBuffer.allocate(grown) else { return budget.refund(grown - capacity) }
        fresh.update(from: storage, count: end)
        InputBuffer.free(storage, capacity: capacity)
        storage = fresh
        capacity = grown
    }

    /// Back to the initial size, keeping what is unconsumed (nothing, when
    /// called from consume and reset).
    private func shrink() {
        guard let small = InputBuffer.allocate(InputBuffer.initialCapacity) else { return }
        InputBuffer.free(storage, capacity: capacity)
        budget.refund(capacity - InputBuffer.initialCapacity)
        storage = small
        capacity = InputBuffer.initialCapacity
    }

    private static func pageRounded(_ bytes: Int) -> Int { (bytes + 4095) & ~4095 }

    private static func allocate(_ bytes: Int) -> UnsafeMutablePointer<UInt8>? {
        guard bytes > largestKept else { return .allocate(capacity: bytes) }
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        return mapped.assumingMemoryBound(to: UInt8.self)
    }

    private static func free(_ storage: UnsafeMutablePointer<UInt8>, capacity: Int) {
        if capacity > largestKept {
            munmap(storage, capacity)
        } else {
            storage.deallocate()
        }
    }
}

/// The bytes a server's connections hold in input buffers beyond their
/// initial few KiB, against a total for the server (LineServer.Limits
/// maxBufferedInput): unfinished requests from many clients cannot pin
/// more than that.
final class InputBudget {
    let limit: Int
    private(set) var used = 0

    init(limit: Int = .max) { self.limit = limit }

    /// Takes `bytes` if they fit; false (and nothing taken) if not.
    @discardableResult
    func charge(_ bytes: Int) -> Bool {
        guard bytes <= limit - used else { return false }
        used += bytes
        return true
    }

    func refund(_ bytes: Int) { used -= bytes }
}
