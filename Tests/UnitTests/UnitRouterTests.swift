@testable import BerthRouter
import BerthWire
import XCTest

final class UnitRouterTests: XCTestCase {
    private func router() throws -> Router<String> {
        var router = Router<String>()
        try router.add(.get, RoutePattern("/users/{id}"), "user")
        try router.add(.get, RoutePattern("/users/me"), "me")
        try router.add(.post, RoutePattern("/users/{id}/posts"), "post")
        try router.add(.delete, RoutePattern("/users/{id}"), "delete")
        try router.add(.get, RoutePattern("/"), "root")
        return router
    }

    private func match(_ router: Router<String>, _ method: HTTPMethod, _ path: String) -> (String, [String])? {
        var parameters: [Range<Int>] = []
        let bytes = Array(path.utf8)
        let result = bytes.withUnsafeBufferPointer { router.match(method, $0, parameters: &parameters) }
        guard case .found(let route) = result else { return nil }
        return (route.target, parameters.map { String(decoding: bytes[$0], as: UTF8.self) })
    }

    func testLiteralBeatsParameterAndParametersAreCaptured() throws {
        let router = try router()
        XCTAssertEqual(match(router, .get, "/users/me")?.0, "me")
        XCTAssertEqual(match(router, .get, "/users/42")?.1, ["42"])
        XCTAssertEqual(match(router, .post, "/users/7/posts")?.1, ["7"])
        XCTAssertEqual(match(router, .get, "/")?.0, "root")
    }

    func testNotFoundAndMethodNotAllowed() throws {
        let router = try router()
        var parameters: [Range<Int>] = []
        func result(_ method: HTTPMethod, _ path: String) -> Router<String>.Match {
            Array(path.utf8).withUnsafeBufferPointer { router.match(method, $0, parameters: &parameters) }
        }
        for path in ["/users", "/users/", "/users/1/", "/users//posts", "/nope", "users/1", ""] {
            guard case .notFound = result(.get, path) else { return XCTFail("\(path) should not match") }
        }
        guard case .methodNotAllowed(let allowed) = result(.put, "/users/1") else { return XCTFail() }
        XCTAssertEqual(allowed, [.get, .delete])
    }

    /// A pattern without parameters is matched by comparing the whole path
    /// at once: it must still mean the same as segment by segment.
    func testLiteralPatternsMatchOnlyTheirExactPath() throws {
        var router = Router<String>()
        try router.add(.get, RoutePattern("/a/b"), "ab")
        try router.add(.get, RoutePattern("/a//c"), "empty segment")
        try router.add(.get, RoutePattern("/"), "root")
        XCTAssertEqual(match(router, .get, "/a/b")?.0, "ab")
        XCTAssertEqual(match(router, .get, "/a//c")?.0, "empty segment")
        XCTAssertEqual(match(router, .get, "/")?.0, "root")
        for path in ["/a/b/", "/a/bb", "/a", "/a/c", "/a/B", "//", "", "a/b", "/a/b?x"] {
            XCTAssertNil(match(router, .get, path), path)
        }
    }

    func testBadPatternsAndDuplicatesAreRefused() throws {
        XCTAssertThrowsError(try RoutePattern("no-slash"))
        XCTAssertThrowsError(try RoutePattern("/a{b}"))
        XCTAssertThrowsError(try RoutePattern("/{x}/{x}"))
        var router = try router()
        XCTAssertThrowsError(try router.add(.get, RoutePattern("/users/{other}"), "clash"))
    }

    func testADuplicateNamesBothRoutesWhateverTheParametersAreCalled() throws {
        var router = Router<String>()
        try router.add(.get, RoutePattern("/x/{a}"), "first")
        try router.add(.post, RoutePattern("/x/{b}"), "other method")
        try router.add(.get, RoutePattern("/x/{a}/y"), "longer")
        XCTAssertThrowsError(try router.add(.get, RoutePattern("/x/{b}"), "clash")) { error in
            XCTAssertTrue("\(error)".hasPrefix("route GET /x/{b} duplicates GET /x/{a}: "), "\(error)")
            XCTAssertTrue("\(error)".contains("remove one or give it a different path or method"), "\(error)")
        }
        XCTAssertThrowsError(try Router<Int>([(.get, RoutePattern("/same"), 0), (.put, RoutePattern("/same"), 1),
                                              (.get, RoutePattern("/same"), 2)])) { error in
            XCTAssertTrue("\(error)".hasPrefix("route GET /same duplicates GET /same: "), "\(error)")
        }
        // A refused route leaves the router as it was.
        XCTAssertEqual(router.routes.map(\.target), ["first", "other method", "longer"])
        XCTAssertEqual(match(router, .get, "/x/1")?.0, "first")
    }

    /// Random route tables and paths over a small alphabet (so literals and
    /// parameters overlap, with empty segments and every method), matched
    /// by the tree and by the rules written out naively: try every route in
    /// order of specificity, the first that fits the method wins; a path
    /// that fits only other methods is 405 with all of them. Duplicates are
    /// those a linear comparison finds.
    func testMatchesAndDuplicatesAreThoseOfANaiveReference() throws {
        var generator = SystemRandomNumberGenerator()
        // Long words that share their first eight bytes, and one of eight.
        let words = ["a", "b", "", "ab", "abcdefgh", "abcdefghij", "abcdefghik"]
        func randomSegments(parameters: Bool) -> [String] {
            (0..<Int.random(in: 1...4, using: &generator)).map { i in
                parameters && Bool.random(using: &generator) ? "{p\(i)}" : words.randomElement(using: &generator)!
            }
        }
        for _ in 0..<40 {
            var table: [(HTTPMethod, RoutePattern, Int)] = []
            var routeCount = Int.random(in: 1...60, using: &generator)
            while table.count < routeCount {
                let pattern = try RoutePattern("/" + randomSegments(parameters: true).joined(separator: "/"))
                let method = HTTPMethod.allCases.randomElement(using: &generator)!
                let duplicate = table.first { $0.0 == method && Self.sameShape($0.1, pattern) }
                if let duplicate {
                    // The whole table with the duplicate last is refused, naming it.
                    XCTAssertThrowsError(try Router(table + [(method, pattern, -1)])) { error in
                        XCTAssertTrue("\(error)".hasPrefix("route \(method) \(pattern) duplicates \(duplicate.0) \(duplicate.1):"), "\(error)")
                    }
                    routeCount -= 1
                    continue
                }
                table.append((method, pattern, table.count))
            }
            let router = try Router(table)
            let ordered = Self.mostSpecificFirst(table)
            for _ in 0..<200 {
                let path = "/" + randomSegments(parameters: false).joined(separator: "/")
                let method = HTTPMethod.allCases.randomElement(using: &generator)!
                var parameters: [Range<Int>] = [0..<1]
                let bytes = Array(path.utf8)
                let result = bytes.withUnsafeBufferPointer { router.match(method, $0, parameters: &parameters) }
                let expected = Self.naiveMatch(ordered, method, bytes)
                switch (result, expected) {
                case (.found(let route), .found(let target, let captured)):
                    XCTAssertEqual(route.target, target, "\(method) \(path)")
                    XCTAssertEqual(parameters, captured, "\(method) \(path)")
                case (.notFound, .notFound):
                    break
                case (.methodNotAllowed(let allowed), .methodNotAllowed(let methods)):
                    XCTAssertEqual(allowed, methods, "\(method) \(path)")
                default:
                    XCTFail("\(method) \(path): \(result), expected \(expected) in \(table.map { "\($0.0) \($0.1)" })")
                }
            }
        }
    }

    func testTenThousandRoutesBuildAndMatch() throws {
        let routes = try (0..<10_000).map { i in (HTTPMethod.get, try RoutePattern("/items/\(i)/{id}"), i) }
        let router = try Router(routes)
        XCTAssertEqual(match(router, .get, "/items/9998/x")?.0, 9998)
        XCTAssertEqual(match(router, .get, "/items/9998/x")?.1, ["x"])
        XCTAssertNil(match(router, .get, "/items/10000/x"))
        var parameters: [Range<Int>] = []
        guard case .methodNotAllowed(let allowed) = Array("/items/5/x".utf8).withUnsafeBufferPointer({
            router.match(.post, $0, parameters: &parameters)
        }) else { return XCTFail("POST /items/5/x should be 405") }
        XCTAssertEqual(allowed, [.get])
    }

    private func match(_ router: Router<Int>, _ method: HTTPMethod, _ path: String) -> (Int, [String])? {
        var parameters: [Range<Int>] = []
        let bytes = Array(path.utf8)
        let result = bytes.withUnsafeBufferPointer { router.match(method, $0, parameters: &parameters) }
        guard case .found(let route) = result else { return nil }
        return (route.target, parameters.map { String(decoding: bytes[$0], as: UTF8.self) })
    }

    private static func sameShape(_ a: RoutePattern, _ b: RoutePattern) -> Bool {
        a.segments.count == b.segments.count && zip(a.segments, b.segments).allSatisfy { pair in
            switch pair {
            case (.parameter, .parameter): return true
            case (.literal(let x), .literal(let y)): return x == y
            default: return false
            }
        }
    }

    private enum NaiveMatch {
        case found(Int, [Range<Int>])
        case notFound
        case methodNotAllowed([HTTPMethod])
    }

    /// Each route inserted before the first less specific one, as routers
    /// kept them before the tree.
    private static func mostSpecificFirst(_ table: [(HTTPMethod, RoutePattern, Int)]) -> [(HTTPMethod, RoutePattern, Int)] {
        var ordered: [(HTTPMethod, RoutePattern, Int)] = []
        for route in table {
            ordered.insert(route, at: ordered.firstIndex { route.1.isMoreSpecific(than: $0.1) } ?? ordered.endIndex)
        }
        return ordered
    }

    /// Every route tried in order, the first that fits wins.
    private static func naiveMatch(_ ordered: [(HTTPMethod, RoutePattern, Int)], _ method: HTTPMethod, _ path: [UInt8]) -> NaiveMatch {
        guard path.first == UInt8(ascii: "/") else { return .notFound }
        var segments: [Range<Int>] = []
        var start = 1
        for index in 1..<path.count where path[index] == UInt8(ascii: "/") {
            segments.append(start..<index)
            start = index + 1
        }
        segments.append(start..<path.count)
        func captures(_ pattern: RoutePattern) -> [Range<Int>]? {
            guard pattern.segments.count == segments.count else { return nil }
            var captured: [Range<Int>] = []
            for (segment, range) in zip(pattern.segments, segments) {
                switch segment {
                case .literal(let bytes): guard Array(path[range]) == bytes else { return nil }
                case .parameter: guard !range.isEmpty else { return nil }; captured.append(range)
                }
            }
            return captured
        }
        if let route = ordered.first(where: { $0.0 == method && captures($0.1) != nil }) {
            return .found(route.2, captures(route.1)!)
        }
        let methods = HTTPMethod.allCases.filter { m in ordered.contains { $0.0 == m && captures($0.1) != nil } }
        return methods.isEmpty ? .notFound : .methodNotAllowed(methods)
    }
}
