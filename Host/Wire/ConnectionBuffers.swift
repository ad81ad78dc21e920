/// The buffers of closed connections, kept for the next ones. A client that
/// connects for each request (the seed's client does) would otherwise cost
/// a 4 KiB input buffer and an output array from malloc and back per
/// connection: a fifth of a worker's instructions per connection under
/// such a load, since buffers that size miss malloc's per-thread cache.
struct ConnectionBuffers {
    typealias Pair = (input: InputBuffer, output: [UInt8])

    /// Enough for a burst of short connections; more would only hold memory
    /// an idle worker does not need.
    static let kept = 64
    /// A buffer grown past this by a large request is freed, not kept.
    static let largestKept = 65536

    private var spare: [Pair] = []

    /// Empty buffers, recycled when there are any.
    mutating func take() -> Pair {
        spare.popLast() ?? (InputBuffer(), [])
    }

    /// Takes back the buffers of a connection that is closed: the closing
    /// is its last use (LineServer.close), so the next one has them alone.
    mutating func recycle(_ input: InputBuffer, _ output: inout [UInt8]) {
        guard spare.count < ConnectionBuffers.kept, input.capacity <= ConnectionBuffers.largestKept,
              output.capacity <= ConnectionBuffers.largestKept else { return }
        input.reset()
        if !output.isEmpty { output.removeAll(keepingCapacity: true) }
        spare.append((input, output))
        output = []
    }
}
