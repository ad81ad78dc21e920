import BerthWire
import Glibc

/// All of a router's patterns as one tree over path segments, in plain
/// memory, so a request walks one branch per segment instead of trying
/// every route (a 404 among 4,000 routes was a scan of all 4,000).
///
/// A node stands for the segments read so far. It has its literal children
/// sorted by (length, key, bytes), found by binary search, at most one
/// parameter child, and, if patterns end there, one route per method. Two
/// patterns of one shape (the same literals at the same places, parameters'
/// names aside) end at the same node: that is how duplicates are found
/// (RouteTreeBuilder). Made once, never changed; raw buffers, so walking it
/// retains and releases nothing.
@usableFromInline
final class RouteTree {
    @usableFromInline
    struct Node {
        @usableFromInline var firstEdge = 0
        @usableFromInline var edgeCount = 0
        /// The node a `{param}` leads to, or -1.
        @usableFromInline var parameterChild = -1
        /// Where this node's route per method starts in `routeSlots`, or -1
        /// if no pattern ends here.
        @usableFromInline var firstRouteSlot = -1
        /// Bit 1 << method.rawValue for each method a route ends here with.
        @usableFromInline var methods: UInt8 = 0
    }

    /// A literal child: its segment's bytes in `literalBytes`; or, in
    /// `wholePaths`, a pattern without parameters and the node it ends at.
    @usableFromInline
    struct Edge {
        @usableFromInline var count: Int
        /// RouteTree.key of the bytes: with the count, it decides for up to
        /// eight bytes without reading them.
        @usableFromInline var key: UInt64
        @usableFromInline var start: Int
        @usableFromInline var child: Int
    }

    @usableFromInline static let methodCount = HTTPMethod.allCases.count

    /// Node 0 is the root: nothing read after the path's leading '/'.
    @usableFromInline let nodes: UnsafeMutableBufferPointer<Node>
    @usableFromInline let edges: UnsafeMutableBufferPointer<Edge>
    @usableFromInline let literalBytes: UnsafeMutableBufferPointer<UInt8>
    /// methodCount slots per node where a pattern ends: the route's index
    /// in the router's list, or -1.
    @usableFromInline let routeSlots: UnsafeMutableBufferPointer<Int>
    /// Every pattern without parameters, whole ("/users/me"), sorted as
    /// edges are. Such a pattern is the most specific of any that match its
    /// path, so a path found here with the method needs no walk: the
    /// common case costs one search and no scan for '/'.
    @usableFromInline let wholePaths: UnsafeMutableBufferPointer<Edge>
    /// Bit min(length, 63) set for the length of each of `wholePaths`: a
    /// path of another length skips their search for two instructions.
    @usableFromInline let wholePathLengths: UInt64
    /// Without parameters, a path not in `wholePaths` matches nothing.
    @usableFromInline let hasParameters: Bool

    init(nodes: [Node], edges: [Edge], literalBytes: [UInt8], routeSlots: [Int], wholePaths: [Edge]) {
        func copy<Element>(_ array: [Element]) -> UnsafeMutableBufferPointer<Element> {
            let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(array.count, 1))
            _ = buffer.initialize(from: array)
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<array.count])
        }
        self.nodes = copy(nodes)
        self.edges = copy(edges)
        self.literalBytes = copy(literalBytes)
        self.routeSlots = copy(routeSlots)
        self.wholePaths = copy(wholePaths)
        hasParameters = nodes.contains { $0.parameterChild >= 0 }
        wholePathLengths = wholePaths.reduce(0) { $0 | 1 << UInt64(min($1.count, 63)) }
    }

    deinit {
        nodes.baseAddress?.deallocate()
        edges.baseAddress?.deallocate()
        literalBytes.baseAddress?.deallocate()
        routeSlots.baseAddress?.deallocate()
        wholePaths.baseAddress?.deallocate()
    }

    /// The index of the route for `method` and `path`, or -1; `parameters`
    /// (empty on entry) then holds the byte ranges of its parameter values.
    /// Where a literal and a parameter both take a segment, the literal is
    /// tried first and the parameter only if nothing under the literal
    /// matches: the most specific route wins, as RoutePattern.isMoreSpecific
    /// orders them.
    @inlinable
    func find(_ method: HTTPMethod, _ path: UnsafeBufferPointer<UInt8>, _ parameters: inout [Range<Int>]) -> Int {
        guard let bytes = path.baseAddress else { return -1 }
        return find(Int(method.rawValue), bytes, path.count, &parameters)
    }

    @usableFromInline
    func find(_ method: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int, _ parameters: inout [Range<Int>]) -> Int {
        guard count > 0, bytes[0] == UInt8(ascii: "/") else { return -1 }
        if wholePathLengths & 1 << UInt64(truncatingIfNeeded: min(count, 63)) != 0 {
            let whole = search(wholePaths, 0, wholePaths.count, bytes, count)
            if whole >= 0 {
                let route = routeIndex(whole, method)
                if route >= 0 { return route }
            }
        }
        return hasParameters ? find(method, bytes, count, node: 0, segmentStart: 1, &parameters) : -1
    }

    /// The walk from `node` with the segment at `segmentStart`. A loop while
    /// only one child fits; it calls itself only where a literal and a
    /// parameter both fit, which no node is visited twice by (each node has
    /// one way down to it), so a walk costs at most the tree's size.
    @usableFromInline
    func find(_ method: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int, node start: Int, segmentStart: Int,
              _ parameters: inout [Range<Int>]) -> Int {
        var node = start
        var position = segmentStart
        while true {
            var end = position
            while end < count && bytes[end] != UInt8(ascii: "/") { end &+= 1 }
            let here = nodes[node]
            let literal = here.edgeCount == 0 ? -1 : literalChild(here, bytes + position, end &- position)
            let parameter = end > position ? here.parameterChild : -1
            if end == count {
                let literalRoute = literal >= 0 ? routeIndex(literal, method) : -1
                if literalRoute >= 0 { return literalRoute }
                let parameterRoute = parameter >= 0 ? routeIndex(parameter, method) : -1
                if parameterRoute >= 0 { parameters.append(position..<end) }
                return parameterRoute
            }
            if literal >= 0 {
                guard parameter >= 0 else {
                    node = literal
                    position = end &+ 1
                    continue
                }
                let kept = parameters.count
                let route = find(method, bytes, count, node: literal, segmentStart: end &+ 1, &parameters)
                if route >= 0 { return route }
                if parameters.count > kept { parameters.removeLast(parameters.count &- kept) }
            }
            guard parameter >= 0 else { return -1 }
            parameters.append(position..<end)
            node = parameter
            position = end &+ 1
        }
    }

    @inlinable @inline(__always)
    func routeIndex(_ node: Int, _ method: Int) -> Int {
        let here = nodes[node]
        return here.methods & (1 << UInt8(truncatingIfNeeded: method)) == 0 ? -1 : routeSlots[here.firstRouteSlot &+ method]
    }

    /// The literal child of `node` whose segment is these bytes, or -1.
    @inlinable @inline(__always)
    func literalChild(_ node: Node, _ segment: UnsafePointer<UInt8>, _ length: Int) -> Int {
        search(edges, node.firstEdge, node.firstEdge &+ node.edgeCount, segment, length)
    }

    /// Binary search of `table[low..<high]`, sorted by (length, key, bytes),
    /// for these bytes: the edge's `child`, or -1. Most comparisons are of
    /// two integers; bytes are read only past the eighth of a long segment.
    @inlinable @inline(__always)
    func search(_ table: UnsafeMutableBufferPointer<Edge>, _ low: Int, _ high: Int, _ bytes: UnsafePointer<UInt8>, _ length: Int) -> Int {
        guard low < high else { return -1 }
        var low = low
        var high = high
        let key = Self.key(bytes, length)
        while low < high {
            let middle = (low &+ high) >> 1
            let edge = table[middle]
            let order = edge.count != length ? (edge.count < length ? -1 : 1)
                : edge.key != key ? (edge.key < key ? -1 : 1)
                : length <= 8 ? 0
                : Self.order(UnsafePointer(literalBytes.baseAddress.unsafelyUnwrapped) + edge.start + 8, bytes + 8, length &- 8)
            if order == 0 { return edge.child }
            if order < 0 { low = middle &+ 1 } else { high = middle }
        }
        return -1
    }

    /// Up to eight bytes as one integer, read without a loop and never
    /// past `count`: the first eight of a longer run; for fewer, two
    /// overlapping loads that together cover every byte. So for a given
    /// count of at most eight, equal keys mean equal bytes.
    @inlinable @inline(__always)
    static func key(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        let raw = UnsafeRawPointer(bytes)
        if count >= 8 { return raw.loadUnaligned(as: UInt64.self) }
        if count >= 4 {
            return UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) << 32
        }
        if count >= 2 {
            return UInt64(raw.loadUnaligned(as: UInt16.self)) | UInt64(raw.loadUnaligned(fromByteOffset: count &- 2, as: UInt16.self)) << 16
        }
        return count == 1 ? UInt64(bytes[0]) : 0
    }

    /// memcmp's sign, for the bytes of long segments after their key.
    @usableFromInline
    static func order(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Int {
        let order = memcmp(a, b, count)
        return order == 0 ? 0 : order < 0 ? -1 : 1
    }

    /// The methods that have a route for `path` (bit 1 << rawValue each):
    /// what a 405 lists. Only after `find` missed, so it may walk every
    /// branch that fits.
    @usableFromInline
    func methodsAllowed(_ path: UnsafeBufferPointer<UInt8>) -> UInt8 {
        guard let bytes = path.baseAddress, path.count > 0, bytes[0] == UInt8(ascii: "/") else { return 0 }
        return methodsAllowed(bytes, path.count, node: 0, segmentStart: 1)
    }

    private func methodsAllowed(_ bytes: UnsafePointer<UInt8>, _ count: Int, node: Int, segmentStart position: Int) -> UInt8 {
        var end = position
        while end < count && bytes[end] != UInt8(ascii: "/") { end += 1 }
        let here = nodes[node]
        func methods(under child: Int) -> UInt8 {
            guard child >= 0 else { return 0 }
            return end == count ? nodes[child].methods : methodsAllowed(bytes, count, node: child, segmentStart: end + 1)
        }
        let literal = here.edgeCount == 0 ? -1 : literalChild(here, bytes + position, end - position)
        return methods(under: literal) | methods(under: end > position ? here.parameterChild : -1)
    }
}
