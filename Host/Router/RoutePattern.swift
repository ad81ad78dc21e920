/// A route's path pattern: literal segments and whole-segment `{param}`s,
/// as in "/users/{id}/posts".
public struct RoutePattern: CustomStringConvertible {
    public enum Segment: Equatable {
        case literal([UInt8])
        case parameter(String)
    }

    public let text: String
    public let segments: [Segment]
    /// The segments as matching walks them: every literal's bytes back to
    /// back in `literalBytes`, and per segment where its literal starts and
    /// how long it is (-1: a parameter). Plain integers, so walking them per
    /// request costs no reference counting.
    @usableFromInline let plan: [(start: Int, count: Int)]
    @usableFromInline let literalBytes: [UInt8]

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
        var plan: [(start: Int, count: Int)] = []
        var literalBytes: [UInt8] = []
        for segment in segments {
            switch segment {
            case .literal(let bytes):
                plan.append((literalBytes.count, bytes.count))
                literalBytes += bytes
            case .parameter:
                plan.append((0, -1))
            }
        }
        self.plan = plan
        self.literalBytes = literalBytes
    }

    public var description: String { text }

    public var parameterNames: [String] {
        segments.compactMap { if case .parameter(let name) = $0 { return name } else { return nil } }
    }

    /// Orders patterns so that, tried in order, a literal segment wins over
    /// a parameter at the same position ("/users/me" before "/users/{id}").
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

    /// Matches `path`, writing the byte ranges of parameter values into
    /// `parameters` (cleared first). Allocation-free once `parameters` has
    /// capacity.
    @inlinable
    func match(_ path: UnsafeBufferPointer<UInt8>, _ parameters: inout [Range<Int>]) -> Bool {
        if !parameters.isEmpty { parameters.removeAll(keepingCapacity: true) }
        guard path.first == UInt8(ascii: "/") else { return false }
        var position = 1
        for index in plan.indices {
            var end = position
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            let (start, count) = plan[index]
            if count >= 0 {
                guard end - position == count else { return false }
                for i in 0..<count where path[position + i] != literalBytes[start + i] { return false }
            } else {
                guard end > position else { return false }
                parameters.append(position..<end)
            }
            if index == plan.count - 1 { return end == path.count }
            guard end < path.count else { return false }
            position = end + 1
        }
        return false
    }
}
