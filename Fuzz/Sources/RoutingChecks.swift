import BerthRouter
import BerthWire

/// The router's promises, checked on a request's path against a matcher
/// written from the README's rules: whole segments, a {param} takes one
/// non-empty segment, a literal beats a parameter at the same position,
/// a path that exists for other methods is 405 with those methods.
enum RoutingChecks {
    /// Overlapping on purpose: literal against parameter, empty segments,
    /// several methods on one pattern, non-ASCII.
    static let table: [(HTTPMethod, String)] = [
        (.get, "/"), (.get, "/users/me"), (.get, "/users/{id}"), (.delete, "/users/{id}"),
        (.options, "/users/{id}"), (.get, "/users/"), (.post, "/users/{id}/posts"),
        (.get, "/users/{id}/posts/{post}"), (.put, "/files/{name}"), (.get, "/a//b"),
        (.get, "/{any}"), (.post, "/{a}/{b}/c"), (.head, "/{a}/x/{b}"), (.patch, "/ü/{é}"),
        (.post, "/echo"), (.get, "/hello/{name}"),
        // A literal branch that fits a path's first segments and then fails
        // deeper, so the router must go back and try the parameter beside it.
        (.put, "/users/me/settings"), (.get, "/{a}/me/{b}"),
    ]

    static let router: Router<Int> = {
        var router = Router<Int>()
        for (index, (method, pattern)) in table.enumerated() {
            try! router.add(method, RoutePattern(pattern), index)
        }
        return router
    }()

    /// Each pattern's segments: a literal's bytes, or nil for a parameter.
    static let patterns: [[[UInt8]?]] = table.map { _, text in
        text.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map {
            $0.first == UInt8(ascii: "{") ? nil : Array($0)
        }
    }

    static func run(_ method: HTTPMethod, _ path: UnsafeBufferPointer<UInt8>) {
        var parameters: [Range<Int>] = [0..<1]
        let match = router.match(method, path, parameters: &parameters)

        // The reference: every route whose pattern matches, with its parameters.
        var segments: [Range<Int>] = []
        if path.first == UInt8(ascii: "/") {
            var start = 1
            for (index, byte) in path.enumerated().dropFirst() where byte == UInt8(ascii: "/") {
                segments.append(start..<index)
                start = index + 1
            }
            segments.append(start..<path.count)
        }
        var matches: [(route: Int, parameters: [Range<Int>])] = []
        for (route, pattern) in patterns.enumerated() where pattern.count == segments.count {
            var captured: [Range<Int>] = []
            let fits = zip(pattern, segments).allSatisfy { literal, segment in
                if let literal { return Array(path[segment]) == literal }
                captured.append(segment)
                return !segment.isEmpty
            }
            if fits { matches.append((route, captured)) }
        }
        let forMethod = matches.filter { table[$0.route].0 == method }
        let what = "\(method) \(show(path))"

        switch match {
        case .notFound:
            check(matches.isEmpty, "\(what): 404, but \(matches.map { table[$0.route].1 }) match")
        case .methodNotAllowed(let allowed):
            check(!matches.isEmpty && forMethod.isEmpty, "\(what): 405, expected \(forMethod.isEmpty ? "404" : "a match")")
            let expected = HTTPMethod.allCases.filter { method in matches.contains { table[$0.route].0 == method } }
            check(allowed == expected, "\(what): 405 allows \(allowed), expected \(expected)")
        case .found(let route):
            // The most specific: at the first position where two matching
            // patterns differ, the literal wins.
            let best = forMethod.max { a, b in
                let first = zip(patterns[a.route], patterns[b.route]).first { ($0 == nil) != ($1 == nil) }
                return first.map { $0.0 == nil } ?? false
            }
            check(route.target == best?.route, "\(what): matched \(table[route.target].1), expected \(best.map { table[$0.route].1 } ?? "none")")
            check(parameters == best?.parameters, "\(what): parameters \(parameters), expected \(String(describing: best?.parameters))")
        }
        checkPathAsPattern(path)
    }

    /// A path with no braces, read as a pattern, is all literals and
    /// matches exactly that path.
    private static func checkPathAsPattern(_ path: UnsafeBufferPointer<UInt8>) {
        guard !path.contains(UInt8(ascii: "{")) && !path.contains(UInt8(ascii: "}")),
              let text = String(validating: path, as: UTF8.self) else { return }
        var own = Router<Int>()
        guard (try? own.add(.get, RoutePattern(text), 0)) != nil else {
            return check(false, "the path \(show(path)) is not a valid pattern")
        }
        var parameters: [Range<Int>] = []
        guard case .found = own.match(.get, path, parameters: &parameters) else {
            return check(false, "the pattern \(show(path)) does not match itself")
        }
        check(parameters.isEmpty, "the pattern \(show(path)) captured \(parameters)")
    }
}
