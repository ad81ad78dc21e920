internal import CBerth
import Glibc

extension Request {
    /// The values of a route's `{param}` segments, by name, percent-decoded.
    ///
    ///     routes.get("/users/{id}") { request in
    ///         let id = request.parameters["id"]    // String?
    ///         ...
    ///     }
    ///
    /// Reads like a `[String: String]` (subscript, `count`, `keys`, `values`,
    /// iteration as `(key, value)` pairs in pattern order); use `dictionary`
    /// when a real one is needed. A route has few parameters, so this is a
    /// couple of strings rather than a hash table built per request.
    public struct Parameters: Sequence, Equatable, Sendable, CustomStringConvertible,
                              ExpressibleByDictionaryLiteral {
        /// Shared by copies. Only a recycled Request refills it (see
        /// `Request.fill`), and only when no copy of it exists, so a
        /// `Parameters` a handler kept never changes.
        let storage: Storage

        final class Storage: @unchecked Sendable {
            /// Parameter names in pattern order; shared by every request of
            /// a route.
            var names: [String] = []
            /// The ParameterNameCache generation `names` was taken from (-1:
            /// none), so an unchanged array is not assigned again (a retain
            /// and a release per request).
            var namesGeneration = -1
            // Values, in the order of `names`: the first two inline (no
            // allocation for the usual route), the rest in an array.
            var value0 = ""
            var value1 = ""
            var moreValues: [String]?

            init() {}

            init(names: [String], values: [String]) {
                self.names = names
                value0 = values.count > 0 ? values[0] : ""
                value1 = values.count > 1 ? values[1] : ""
                moreValues = values.count > 2 ? Array(values[2...]) : nil
            }

            /// The host's parameters. Names are checked against the route's
            /// cached ones byte for byte and reused; values are copied.
            func fill(_ params: UnsafePointer<berth_param>?, _ count: Int, names cache: ParameterNameCache) {
                guard let params, count > 0 else {
                    if !names.isEmpty {
                        names = []
                        namesGeneration = -1
                        value0 = ""
                        value1 = ""
                        moreValues = nil
                    }
                    return
                }
                cache.update(params, count)
                if namesGeneration != cache.generation {
                    names = cache.names
                    namesGeneration = cache.generation
                }
                value0 = params[0].value.string
                // Left alone when already empty: assigning "" or nil again
                // still releases the old value.
                if count > 1 {
                    value1 = params[1].value.string
                } else if !value1.isEmpty {
                    value1 = ""
                }
                if count > 2 {
                    moreValues = (2..<count).map { params[$0].value.string }
                } else if moreValues != nil {
                    moreValues = nil
                }
            }
        }

        init(storage: Storage) { self.storage = storage }

        /// Parameters with these names and values (sorted by name: a
        /// dictionary has no order).
        public init(_ dictionary: [String: String]) {
            let sorted = dictionary.sorted { $0.key < $1.key }
            storage = Storage(names: sorted.map(\.key), values: sorted.map(\.value))
        }

        public init(dictionaryLiteral elements: (String, String)...) {
            self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
        }

        private var names: [String] { storage.names }

        private func value(at index: Int) -> String {
            switch index {
            case 0: return storage.value0
            case 1: return storage.value1
            default: return storage.moreValues.unsafelyUnwrapped[index - 2]
            }
        }

        /// The value of `{name}`, nil when the route has no such parameter.
        public subscript(name: String) -> String? {
            // From the end: were a name repeated, the last would win, as it
            // did when this was a dictionary.
            var index = names.count - 1
            while index >= 0 {
                if names[index] == name { return value(at: index) }
                index -= 1
            }
            return nil
        }

        /// How many parameters the route has.
        public var count: Int { names.count }

        /// True when the route has no parameters.
        public var isEmpty: Bool { names.isEmpty }

        /// The parameter names, in pattern order.
        public var keys: [String] { names }

        /// The values, in pattern order.
        public var values: [String] { names.indices.map(value(at:)) }

        /// The parameters as a dictionary.
        public var dictionary: [String: String] {
            var result: [String: String] = [:]
            for (key, value) in self { result[key] = value }
            return result
        }

        public struct Iterator: IteratorProtocol {
            let parameters: Parameters
            var index = 0

            public mutating func next() -> (key: String, value: String)? {
                guard index < parameters.names.count else { return nil }
                defer { index += 1 }
                return (parameters.names[index], parameters.value(at: index))
            }
        }

        public func makeIterator() -> Iterator { Iterator(parameters: self) }

        public var underestimatedCount: Int { names.count }

        /// Same names with the same values, in any order.
        public static func == (lhs: Parameters, rhs: Parameters) -> Bool {
            lhs.dictionary == rhs.dictionary
        }

        /// As a dictionary prints, e.g. `["id": "42"]`.
        public var description: String { dictionary.description }
    }
}

/// A route's parameter names as Strings, so that a request only compares the
/// host's name bytes with them instead of building new Strings and an array.
/// Refilled when the host's names differ (they never should: the host sends
/// the route pattern's names in pattern order).
final class ParameterNameCache {
    private(set) var names: [String] = []
    /// Changes whenever `names` is rebuilt.
    private(set) var generation = 0
    /// The names' bytes back to back, and where each one ends.
    private var nameBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 0)
    private var nameEnds = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var count = 0

    /// Makes `names` the host's names for this call.
    func update(_ params: UnsafePointer<berth_param>, _ count: Int) {
        if !matches(params, count) { refill(params, count) }
    }

    private func matches(_ params: UnsafePointer<berth_param>, _ count: Int) -> Bool {
        guard self.count == count else { return false }
        var start = 0
        for index in 0..<count {
            let name = params[index].name
            let end = nameEnds[index]
            guard name.len == end &- start else { return false }
            if name.len > 0 {
                guard let ptr = name.ptr, memcmp(nameBytes + start, ptr, name.len) == 0 else { return false }
            }
            start = end
        }
        return true
    }

    private func refill(_ params: UnsafePointer<berth_param>, _ count: Int) {
        let buffer = UnsafeBufferPointer(start: params, count: count)
        names = buffer.map { $0.name.string }
        generation += 1
        let bytes = buffer.flatMap { $0.name.bytes }
        nameBytes.deallocate()
        nameEnds.deallocate()
        nameBytes = .allocate(capacity: bytes.count)
        nameBytes.initialize(from: bytes, count: bytes.count)
        nameEnds = .allocate(capacity: count)
        var end = 0
        for index in 0..<count {
            end += buffer[index].name.len
            nameEnds[index] = end
        }
        self.count = count
    }
}
