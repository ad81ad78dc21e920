import BerthWire

/// Builds a RouteTree from a router's routes in O(n log n): each pattern's
/// segments are followed or added through a dictionary per node (so a
/// plugin's 10,000 routes cost 10,000 walks, not 10,000² comparisons), and
/// each node's literal children are then sorted once for binary search.
/// A second pattern that ends at the same node with the same method is a
/// duplicate: it matches exactly the requests the first one matches.
struct RouteTreeBuilder {
    /// `route` matches the same requests as the earlier `existing` (indexes
    /// into the list given to `build`).
    struct Duplicate: Error {
        let route: Int
        let existing: Int
    }

    private struct Node {
        var literals: [[UInt8]: Int] = [:]
        var parameter = -1
        var routes: [Int]? = nil
    }

    private var nodes = [Node()]
    /// Each pattern without parameters, whole, and the node it ends at.
    private var wholePaths: [[UInt8]: Int] = [:]

    static func build(_ routes: [(method: HTTPMethod, pattern: RoutePattern)]) throws -> RouteTree {
        var builder = RouteTreeBuilder()
        for (index, route) in routes.enumerated() {
            try builder.add(index, route.method, route.pattern)
        }
        return builder.flattened()
    }

    private mutating func add(_ index: Int, _ method: HTTPMethod, _ pattern: RoutePattern) throws {
        var node = 0
        for segment in pattern.segments {
            switch segment {
            case .literal(let bytes):
                if let child = nodes[node].literals[bytes] {
                    node = child
                } else {
                    nodes.append(Node())
                    nodes[node].literals[bytes] = nodes.count - 1
                    node = nodes.count - 1
                }
            case .parameter:
                if nodes[node].parameter < 0 {
                    nodes.append(Node())
                    nodes[node].parameter = nodes.count - 1
                }
                node = nodes[node].parameter
            }
        }
        if pattern.parameterNames.isEmpty { wholePaths[Array(pattern.text.utf8)] = node }
        var slots = nodes[node].routes ?? Array(repeating: -1, count: RouteTree.methodCount)
        let slot = Int(method.rawValue)
        if slots[slot] >= 0 { throw Duplicate(route: index, existing: slots[slot]) }
        slots[slot] = index
        nodes[node].routes = slots
    }

    /// The same nodes, numbered as built, in the tree's plain layout.
    private func flattened() -> RouteTree {
        var flat = [RouteTree.Node](repeating: RouteTree.Node(), count: nodes.count)
        var edges: [RouteTree.Edge] = []
        var literalBytes: [UInt8] = []
        var routeSlots: [Int] = []
        for (index, node) in nodes.enumerated() {
            flat[index].firstEdge = edges.count
            flat[index].edgeCount = node.literals.count
            flat[index].parameterChild = node.parameter
            for (bytes, child) in Self.sorted(node.literals) {
                edges.append(RouteTree.Edge(count: bytes.count, key: Self.key(bytes), start: literalBytes.count, child: child))
                literalBytes += bytes
            }
            if let routes = node.routes {
                flat[index].firstRouteSlot = routeSlots.count
                for (method, route) in routes.enumerated() where route >= 0 { flat[index].methods |= 1 << UInt8(method) }
                routeSlots += routes
            }
        }
        var whole: [RouteTree.Edge] = []
        for (bytes, node) in Self.sorted(wholePaths) {
            whole.append(RouteTree.Edge(count: bytes.count, key: Self.key(bytes), start: literalBytes.count, child: node))
            literalBytes += bytes
        }
        return RouteTree(nodes: flat, edges: edges, literalBytes: literalBytes, routeSlots: routeSlots, wholePaths: whole)
    }

    private static func key(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBufferPointer { $0.baseAddress.map { RouteTree.key($0, bytes.count) } ?? 0 }
    }

    /// In the order RouteTree.search expects: by length, then key, then
    /// bytes (which, for equal keys, differ only after the eighth).
    private static func sorted(_ keyed: [[UInt8]: Int]) -> [(key: [UInt8], value: Int)] {
        typealias Entry = (bytes: [UInt8], key: UInt64, value: Int)
        let entries: [Entry] = keyed.map { (bytes: $0.key, key: key($0.key), value: $0.value) }
        func precedes(_ a: Entry, _ b: Entry) -> Bool {
            if a.bytes.count != b.bytes.count { return a.bytes.count < b.bytes.count }
            if a.key != b.key { return a.key < b.key }
            return a.bytes.lexicographicallyPrecedes(b.bytes)
        }
        return entries.sorted(by: precedes).map { (key: $0.bytes, value: $0.value) }
    }
}
