import Glibc

/// A route pattern as matching walks it, in plain memory: per segment where
/// its literal bytes start and how many there are (-1: a parameter), and
/// the literal bytes back to back. Every request walks the routes, and the
/// pattern's arrays were retained and released per route per request; raw
/// buffers cost no reference counting. Made and freed by Router.Route.
@usableFromInline
struct PathMatcher {
    @usableFromInline let plan: UnsafeMutableBufferPointer<(start: Int, count: Int)>
    @usableFromInline let literals: UnsafeMutableBufferPointer<UInt8>
    /// Set when the pattern has no parameter ("/users/me"): `literals` is
    /// then the whole pattern, which matches exactly the path with these
    /// bytes (one memcmp), and `plan` is empty.
    @usableFromInline let wholePath: Bool

    init(_ pattern: RoutePattern) {
        var plan: [(start: Int, count: Int)] = []
        var literals: [UInt8] = []
        wholePath = pattern.parameterNames.isEmpty
        if wholePath {
            literals = Array(pattern.text.utf8)
        } else {
            for segment in pattern.segments {
                switch segment {
                case .literal(let bytes):
                    plan.append((literals.count, bytes.count))
                    literals += bytes
                case .parameter:
                    plan.append((0, -1))
                }
            }
        }
        self.plan = .allocate(capacity: max(plan.count, 1))
        _ = self.plan.initialize(from: plan)
        self.literals = .allocate(capacity: max(literals.count, 1))
        _ = self.literals.initialize(from: literals)
    }

    func deallocate() {
        plan.deallocate()
        literals.deallocate()
    }

    /// Matches `path`, writing the byte ranges of parameter values into
    /// `parameters` (cleared first). Allocation-free once `parameters` has
    /// capacity.
    @inlinable @inline(__always)
    func match(_ path: UnsafeBufferPointer<UInt8>, _ parameters: inout [Range<Int>]) -> Bool {
        if !parameters.isEmpty { parameters.removeAll(keepingCapacity: true) }
        guard let bytes = path.baseAddress, path.first == UInt8(ascii: "/") else { return false }
        if wholePath { return literals.count == path.count && memcmp(literals.baseAddress!, bytes, path.count) == 0 }
        var position = 1
        for index in 0..<plan.count {
            var end = position
            while end < path.count && bytes[end] != UInt8(ascii: "/") { end &+= 1 }
            let (start, count) = plan[index]
            if count >= 0 {
                guard end &- position == count, memcmp(literals.baseAddress! + start, bytes + position, count) == 0 else { return false }
            } else {
                guard end > position else { return false }
                parameters.append(position..<end)
            }
            if index == plan.count &- 1 { return end == path.count }
            guard end < path.count else { return false }
            position = end &+ 1
        }
        return false
    }
}
