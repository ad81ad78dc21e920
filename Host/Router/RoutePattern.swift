/// A route's path pattern: literal segments and whole-segment `{param}`s,
/// as in "/users/{id}/posts".
public struct RoutePattern: CustomStringConvertible {
    public enum Segment: Equatable {
        case literal([UInt8])
        case parameter(String)
    }

    public let text: String
    public let segments: [Segment]

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws {
        guard text.hasPrefix("/") else {
            throw Invalid(description: "route pattern \"\(text)\" must start with '/'")
        }
        var segments: [Segment] = []
        var names = Set<String>()
        for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                let name = String(part.dropFirst().dropLast())
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), names.insert(name).inserted else {
                    throw Invalid(description: "route pattern \"\(text)\": parameter {\(name)} must be a unique name of letters, digits and '_'")
                }
                segments.append(.parameter(name))
            } else if part.contains("{") || part.contains("}") {
                throw Invalid(description: "route pattern \"\(text)\": a {param} must fill a whole segment")
            } else {
                segments.append(.literal(Array(part.utf8)))
            }
        }
        self.text = text
        self.segments = segments
    }

    public var description: String { text }

    public var parameterNames: [String] {
        segments.compactMap { if case .parameter(let name) = $0 { return name } else { return nil } }
    }

    /// Orders patterns so that, tried in order, a literal segment wins over
    /// a parameter at the same position ("/users/me" before "/users/{id}").
    /// The rule RouteTree's walk follows by trying a literal child before a
    /// parameter; the unit tests' naive reference router sorts by it.
    func isMoreSpecific(than other: RoutePattern) -> Bool {
        for (a, b) in zip(segments, other.segments) {
            switch (a, b) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return segments.count > other.segments.count
    }
}
