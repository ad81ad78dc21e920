// The host's routing rules (Host/Router, Host/Auth/Admission), restated
// for PluginTestClient. The SDK cannot depend on the host's modules (every
// plugin links the SDK), so this is a second, simple implementation of the
// same rules; UnitPluginTestClientTests checks it against the host's Router
// on the same routes and paths.
internal import CBerth

/// One route of a plugin's descriptor, as the host reads it at load.
struct TestRoute {
    enum Segment: Equatable {
        case literal([UInt8])
        case parameter
    }

    /// The method's canonical name ("GET").
    let method: String
    let pattern: String
    let segments: [Segment]
    let parameterNames: [String]
    let isPublic: Bool
    let handler: berth_handler_fn
    let userData: UnsafeMutableRawPointer?

    /// "GET /hello/{name}", as the host names a route in its messages.
    var label: String { "\(method) \(pattern)" }

    /// Whether the literals and parameters sit at the same places: two such
    /// routes with one method match the same requests.
    func hasShape(of other: TestRoute) -> Bool { segments == other.segments }

    /// Every route of `descriptor`, checked as the host checks them at load:
    /// a known method, a valid pattern, no two routes of one method and
    /// shape. Throws what the host would refuse the load with.
    static func table(of descriptor: UnsafePointer<berth_plugin>) throws -> [TestRoute] {
        var routes: [TestRoute] = []
        for index in 0..<descriptor.pointee.route_count {
            let raw = descriptor.pointee.routes[index]
            let methodText = raw.method.map { String(cString: $0) } ?? ""
            guard let method = TestMethods.canonical(methodText) else {
                throw PluginTestError("route \(index) has method \"\(methodText)\"; use one of \(TestMethods.allNames)")
            }
            let pattern = raw.pattern.map { String(cString: $0) } ?? ""
            guard let handler = raw.handler else { throw PluginTestError("route \(method) \(pattern) has no handler") }
            let (segments, names) = try parse(pattern)
            let route = TestRoute(method: method, pattern: pattern, segments: segments, parameterNames: names,
                                  isPublic: raw.flags & BERTH_ROUTE_PUBLIC != 0, handler: handler, userData: raw.user_data)
            if let existing = routes.first(where: { $0.method == method && $0.hasShape(of: route) }) {
                throw PluginTestError("route \(method) \(pattern) duplicates \(method) \(existing.pattern): both match the same requests "
                                      + "(parameter names do not tell routes apart); remove one or give it a different path or method")
            }
            routes.append(route)
        }
        return routes
    }

    /// RoutePattern's rules: starts with '/', a `{param}` fills a whole
    /// segment and has a unique name of letters, digits and '_'.
    private static func parse(_ text: String) throws -> ([Segment], [String]) {
        guard text.hasPrefix("/") else { throw PluginTestError("route pattern \"\(text)\" must start with '/'") }
        var segments: [Segment] = []
        var names: [String] = []
        for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                let name = String(part.dropFirst().dropLast())
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !names.contains(name) else {
                    throw PluginTestError("route pattern \"\(text)\": parameter {\(name)} must be a unique name of letters, digits and '_'")
                }
                names.append(name)
                segments.append(.parameter)
            } else if part.contains("{") || part.contains("}") {
                throw PluginTestError("route pattern \"\(text)\": a {param} must fill a whole segment")
            } else {
                segments.append(.literal(Array(part.utf8)))
            }
        }
        return (segments, names)
    }

    /// The raw (not yet decoded) parameter values if `path` matches, else
    /// nil. A parameter takes one whole segment that is not empty.
    func match(_ path: [[UInt8]]) -> [[UInt8]]? {
        guard path.count == segments.count else { return nil }
        var values: [[UInt8]] = []
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let bytes): guard bytes == part else { return nil }
            case .parameter:
                guard !part.isEmpty else { return nil }
                values.append(part)
            }
        }
        return values
    }

    /// The host's order: at the first place two patterns differ, a literal
    /// wins over a parameter. Among routes that match one path (so have as
    /// many segments as it), the first by this order is the one the host's
    /// tree walk finds.
    func isMoreSpecific(than other: TestRoute) -> Bool {
        for (a, b) in zip(segments, other.segments) {
            switch (a, b) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return false
    }
}

/// The methods a route and a request may name, matched in any case.
enum TestMethods {
    static let names = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    static let allNames = names.joined(separator: ", ")

    static func canonical(_ name: String) -> String? {
        let upper = name.uppercased()
        return names.contains(upper) ? upper : nil
    }
}

/// How the host routes a request over a plugin's routes.
enum TestRouting {
    enum Outcome {
        case found(TestRoute, rawParameters: [[UInt8]])
        case notFound
        case methodNotAllowed(allowed: [String])
    }

    static func route(_ method: String, _ path: [UInt8], in routes: [TestRoute]) -> Outcome {
        guard path.first == UInt8(ascii: "/") else { return .notFound }
        let parts = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)
        var best: (route: TestRoute, values: [[UInt8]])?
        var allowed = Set<String>()
        for route in routes {
            guard let values = route.match(parts) else { continue }
            allowed.insert(route.method)
            guard route.method == method else { continue }
            if best == nil || route.isMoreSpecific(than: best!.route) { best = (route, values) }
        }
        if let best { return .found(best.route, rawParameters: best.values) }
        if allowed.isEmpty { return .notFound }
        return .methodNotAllowed(allowed: TestMethods.names.filter(allowed.contains))
    }

    /// %XX escapes decoded as the worker decodes a parameter; a malformed
    /// escape stays as it is.
    static func percentDecoded(_ raw: [UInt8]) -> [UInt8] {
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "%"), i + 2 < raw.count, let high = hex(raw[i + 1]), let low = hex(raw[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return out
    }
}
