import Glibc

/// A connection's unconsumed input: bytes are read in at the end and
/// consumed from the front; the front is compacted lazily.
final class InputBuffer {
    private(set) var storage: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var start = 0
    private(set) var end = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    var count: Int { end - start }

    var unconsumed: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: storage + start, count: end - start)
    }

    func consume(_ n: Int) {
        start += n
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Room for at least `minimum` more bytes, growing up to `limit` total.
    /// Returns the free space (empty when the limit is reached).
    func reserve(minimum: Int, limit: Int) -> UnsafeMutableRawBufferPointer {
        if capacity - end < minimum && start > 0 {
            memmove(storage, storage + start, end - start)
            end -= start
            start = 0
        }
        if capacity - end < minimum && capacity < limit {
            let grown = min(max(capacity * 2, end + minimum), limit)
            let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            fresh.update(from: storage, count: end)
            storage.deallocate()
            storage = fresh
            capacity = grown
        }
        return UnsafeMutableRawBufferPointer(start: storage + end, count: capacity - end)
    }

    func commit(_ n: Int) { end += n }

    /// Forgets what it holds (for the next connection, ConnectionPool).
    func reset() {
        start = 0
        end = 0
    }
}
