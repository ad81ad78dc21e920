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
        @usableFromInline let matcher: PathMatcher

        init(method: HTTPMethod, pattern: RoutePattern, target: Target) {
            self.method = method
            self.pattern = pattern
            self.target = target
            matcher = PathMatcher(pattern)
        }

        deinit { matcher.deallocate() }
    }

    public enum Match {
        case found(Route)
        case notFound
        /// The path exists, but not for this method.
        case methodNotAllowed(allowed: [HTTPMethod])
    }

    public private(set) var routes: [Route] = []

    public init() {}

    public struct Conflict: Error, CustomStringConvertible {
        public let description: String
    }

    /// Adds a route, most specific first (see RoutePattern.isMoreSpecific).
    /// Routes of one shape (literals and parameters at the same places) are
    /// neither more nor less specific than each other, so they sit together,
    /// and only among them can a route duplicate another: two binary searches
    /// find that run, and only it is compared, so a plugin with thousands of
    /// routes of different shapes loads in O(n log n) comparisons.
    public mutating func add(_ method: HTTPMethod, _ pattern: RoutePattern, _ target: Target) throws {
        let sameShape = firstIndex { !$0.pattern.isMoreSpecific(than: pattern) }..<firstIndex { pattern.isMoreSpecific(than: $0.pattern) }
        if let clash = routes[sameShape].first(where: { $0.method == method && $0.pattern.segments.count == pattern.segments.count
            && zip($0.pattern.segments, pattern.segments).allSatisfy { pair in
                switch pair {
                case (.parameter, .parameter): return true
                case (.literal(let a), .literal(let b)): return a == b
                default: return false
                }
            } }) {
            throw Conflict(description: "route \(method) \(pattern) duplicates \(clash.method) \(clash.pattern)")
        }
        routes.insert(Route(method: method, pattern: pattern, target: target), at: sameShape.upperBound)
    }

    /// The first route for which `isAfter` holds, in a list where it holds
    /// for every route after that one too (binary search).
    private func firstIndex(where isAfter: (Route) -> Bool) -> Int {
        var range = routes.startIndex..<routes.endIndex
        while !range.isEmpty {
            let middle = range.lowerBound + range.count / 2
            if isAfter(routes[middle]) { range = range.lowerBound..<middle } else { range = (middle + 1)..<range.upperBound }
        }
        return range.lowerBound
    }

    /// Finds the route for a request. `parameters` receives the byte ranges
    /// of the matched route's parameter values, in pattern order.
    /// Inlinable so a worker gets it specialized for its target type: an
    /// unspecialized generic looked up type metadata on every request.
    @inlinable
    public func match(_ method: HTTPMethod, _ path: UnsafeBufferPointer<UInt8>, parameters: inout [Range<Int>]) -> Match {
        // The method is compared first: it is cheaper than the path, and
        // only a miss needs to know whether the path exists for another one.
        // Walked without retaining each route: `routes` holds them all for
        // the whole call.
        let found: Route? = routes.withUnsafeBufferPointer { all in
            for index in all.indices {
                unowned(unsafe) let route = all[index]
                if route.method == method && route.matcher.match(path, &parameters) { return route }
            }
            return nil
        }
        if let found { return .found(found) }
        guard routes.contains(where: { $0.matcher.match(path, &parameters) }) else { return .notFound }
        var allowed: [HTTPMethod] = []
        var scratch: [Range<Int>] = []
        for route in routes where route.matcher.match(path, &scratch) && !allowed.contains(route.method) {
            allowed.append(route.method)
        }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }
}
