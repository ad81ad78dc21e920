// Everything the encoder and its containers change while writing: the
// output buffer, the stack of open containers, the key offsets the sorted
// order is checked with, and the value being encoded. It lives behind one
// pointer (FastJSONEncoder.state) that every container holds, so a write is
// a store through that pointer: no reference counting, no exclusivity check.
//
// The members are internal because the concerns that change them have
// files of their own (FastJSONState+Containers.swift, +KeyOrder.swift,
// NumberWriting.swift, StringWriting.swift); nothing outside this folder
// touches them.
//
// Mirrors from JSONEncoder: nothing by itself; it holds what the other
// files need to.

import Foundation

struct FastJSONState {
    // MARK: Output buffer (reused; given back only after a very large value)

    private(set) var bytes: UnsafeMutablePointer<UInt8>
    /// Bytes written so far.
    var count = 0
    private var capacity: Int

    // MARK: Container stack

    struct Frame {
        /// Unique for the life of the process: a container whose frame has
        /// been closed (or belongs to an earlier encoding) never matches.
        var id: Int
        var isObject: Bool
        /// Opened by nestedContainer: closed implicitly when its parent is
        /// written to again or when the enclosing value ends.
        var isNested: Bool
        /// A key arrived that is not greater than the previous one.
        var unsorted = false
        /// A key needed escaping, so its bytes in the buffer do not sort
        /// like the key itself.
        var escapedKey = false
        /// Elements or keys written so far.
        var count = 0
        /// Index in `keyRanges` of this object's first key.
        var keyBase: Int
    }

    var frames = Stack<Frame>(capacity: 16)
    /// Per key of every open object: start and end offsets of the key's text
    /// (inside the quotes) in the buffer, for the order check and sorting.
    var keyRanges = Stack<Int>(capacity: 64)
    /// Scratch space for sortObject.
    var sortOrder = Stack<Int>(capacity: 16)
    var sortBytes = Stack<UInt8>(capacity: 256)
    var nextFrameID = 1

    // MARK: The value being encoded ("slot")

    enum SlotState { case empty, singleRequested, written, container }
    /// `frames.count` when the current value started: its own container,
    /// if it opens one, is frames[slotStart]; frames below belong to
    /// enclosing values and must not be written to until it returns.
    var slotStart = 0
    var slotState = SlotState.empty
    var slotID = 0
    var nextSlotID = 1

    /// Set when the streaming result cannot be trusted; sticky until the
    /// next top-level encoding, even if someone catches our error.
    var failed = false

    /// The encoder whose state this is (immortal, so unretained).
    var encoder: Unmanaged<FastJSONEncoder>?

    init() {
        capacity = 1024
        bytes = .allocate(capacity: capacity)
    }

    /// Frees the buffers (only for a state that is not the shared one).
    mutating func deallocateBuffers() {
        bytes.deallocate()
        frames.deallocate()
        keyRanges.deallocate()
        sortOrder.deallocate()
        sortBytes.deallocate()
    }

    /// Capacity kept between encodings; a buffer grown past it for one
    /// large response is given back before the next one.
    private static let retainedCapacity = 1 << 20

    mutating func reset() {
        if capacity > Self.retainedCapacity {
            bytes.deallocate()
            capacity = 1024
            bytes = .allocate(capacity: capacity)
        }
        if sortBytes.capacity > Self.retainedCapacity {
            sortBytes.deallocate()
            sortBytes = Stack(capacity: 256)
        }
        count = 0
        frames.count = 0
        keyRanges.count = 0
        failed = false
        slotStart = 0
        slotState = .empty
        slotID = 0
    }

    @inline(never)
    mutating func fail() -> FastJSONFallback {
        failed = true
        return FastJSONFallback()
    }

    // MARK: Writing bytes

    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(count + n) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBytes.update(from: bytes, count: count)
        bytes.deallocate()
        bytes = newBytes
        capacity = newCapacity
    }

    @inline(__always)
    mutating func writeByte(_ byte: UInt8) {
        reserve(1)
        bytes[count] = byte
        count &+= 1
    }

    @inline(__always)
    mutating func writeBytes(_ source: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (bytes + count).update(from: source, count: n)
        count &+= n
    }

    mutating func writeStatic(_ text: StaticString) {
        writeBytes(text.utf8Start, text.utf8CodeUnitCount)
    }

    /// Text known to need no escaping (numbers).
    mutating func writeRaw(_ text: String) {
        var text = text
        text.withUTF8 { writeBytes($0.baseAddress!, $0.count) }
    }
}
