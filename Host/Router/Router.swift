import BerthWire

/// Maps (method, path) to a route's target: a plugin's C handler in a
/// worker, a closure on the control socket.
public struct Router<Target> {
    /// A class, so a match hands out one reference instead of copying the
    /// pattern's arrays (each copy is retained and released per request).
    public final class Route {
        public let method: HTTPMethod
        public let pattern: RoutePattern
        public let target: Target

        init(method: HTTPMethod, pattern: RoutePattern, target: Target) {
            self.method = method
            self.pattern = pattern
            self.target = target
        }
    }

    public enum Match {
        case found(Route)
        case notFound
        /// The path exists, but not for this method.
        case methodNotAllowed(allowed: [HTTPMethod])
    }

    /// In the order they were given.
    public private(set) var routes: [Route] = []
    /// What a request walks (RouteTree); its leaves index `routes`.
    @usableFromInline private(set) var tree: RouteTree

    public init() {
        tree = try! RouteTreeBuilder.build([])
    }

    /// Two routes with the same method and the same shape (the same
    /// literals at the same places; parameters' names do not count) would
    /// match the same requests.
    public struct Conflict: Error, CustomStringConvertible {
        public let method: HTTPMethod
        public let pattern: RoutePattern
        public let existingPattern: RoutePattern

        public var description: String {
            "route \(method) \(pattern) duplicates \(method) \(existingPattern): both match the same requests "
                + "(parameter names do not tell routes apart); remove one or give it a different path or method"
        }
    }

    /// All routes at once, in O(n log n): how a worker builds its plugin's
    /// router. Throws Conflict for the first route that duplicates an
    /// earlier one.
    public init(_ routes: [(method: HTTPMethod, pattern: RoutePattern, target: Target)]) throws {
        self.routes = routes.map { Route(method: $0.method, pattern: $0.pattern, target: $0.target) }
        do {
            tree = try RouteTreeBuilder.build(routes.map { ($0.method, $0.pattern) })
        } catch let duplicate as RouteTreeBuilder.Duplicate {
            throw Conflict(method: routes[duplicate.route].method, pattern: routes[duplicate.route].pattern,
                           existingPattern: routes[duplicate.existing].pattern)
        }
    }

    /// Adds one route, building the tree again: for a handful of routes
    /// (the control socket's); init(_:) takes a plugin's many at once.
    public mutating func add(_ method: HTTPMethod, _ pattern: RoutePattern, _ target: Target) throws {
        self = try Router(routes.map { ($0.method, $0.pattern, $0.target) } + [(method, pattern, target)])
    }

    /// Finds the route for a request. `parameters` receives the byte ranges
    /// of the matched route's parameter values, in pattern order.
    /// Inlinable so a worker gets it specialized for its target type: an
    /// unspecialized generic looked up type metadata on every request.
    @inlinable
    public func match(_ method: HTTPMethod, _ path: UnsafeBufferPointer<UInt8>, parameters: inout [Range<Int>]) -> Match {
        // One removeLast per value of the last match (a route has few):
        // removeAll(keepingCapacity:) cost some 60 instructions.
        while !parameters.isEmpty { parameters.removeLast() }
        let index = tree.find(method, path, &parameters)
        if index >= 0 { return .found(routes.withUnsafeBufferPointer { $0[index] }) }
        // Only a miss asks whether the path exists for another method.
        let allowed = tree.methodsAllowed(path)
        guard allowed != 0 else { return .notFound }
        return .methodNotAllowed(allowed: HTTPMethod.allCases.filter { allowed & (1 << $0.rawValue) != 0 })
    }
}
