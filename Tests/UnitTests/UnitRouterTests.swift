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

    /// The order and the duplicates found are those of inserting each route
    /// before the first less specific one and comparing it with every
    /// route, as add did before it used binary searches.
    func testRoutesOfManyShapesKeepTheOrderAndDuplicatesOfALinearInsert() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var router = Router<Int>()
            var reference: [(HTTPMethod, RoutePattern, Int)] = []
            for number in 0..<300 {
                let segments = (0..<Int.random(in: 0...4, using: &generator)).map { i in
                    Bool.random(using: &generator) ? "{p\(i)}" : ["a", "b"].randomElement(using: &generator)!
                }
                let pattern = try RoutePattern("/" + segments.joined(separator: "/"))
                let method = [HTTPMethod.get, .post].randomElement(using: &generator)!
                let duplicate = reference.first { $0.0 == method && $0.1.segments.count == pattern.segments.count
                    && zip($0.1.segments, pattern.segments).allSatisfy { pair in
                        switch pair {
                        case (.parameter, .parameter): return true
                        case (.literal(let a), .literal(let b)): return a == b
                        default: return false
                        }
                    } }
                do {
                    try router.add(method, pattern, number)
                    XCTAssertNil(duplicate, "\(method) \(pattern) duplicates \(duplicate.map { "\($0.0) \($0.1)" } ?? "")")
                } catch {
                    XCTAssertEqual("\(error)", duplicate.map { "route \(method) \(pattern) duplicates \($0.0) \($0.1)" })
                    continue
                }
                let index = reference.firstIndex { pattern.isMoreSpecific(than: $0.1) } ?? reference.endIndex
                reference.insert((method, pattern, number), at: index)
            }
            XCTAssertEqual(router.routes.map(\.target), reference.map(\.2))
        }
    }
}
