/// The methods a route may name. Requests may spell them in any case.
public enum HTTPMethod: UInt8, CaseIterable, CustomStringConvertible {
    case get, post, put, patch, delete, head, options

    public var description: String {
        switch self {
        case .get: return "GET"
        case .post: return "POST"
        case .put: return "PUT"
        case .patch: return "PATCH"
        case .delete: return "DELETE"
        case .head: return "HEAD"
        case .options: return "OPTIONS"
        }
    }

    public init?(_ name: String) {
        self.init(bytes: Array(name.utf8))
    }

    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count >= 3 && bytes.count <= 7 else { return nil }
        for method in HTTPMethod.allCases where method.description.utf8.count == bytes.count {
            if zip(method.description.utf8, bytes).allSatisfy({ $0 == ($1 & 0xDF) }) {
                self = method
                return
            }
        }
        return nil
    }

    public static let allNames = allCases.map(\.description).joined(separator: ", ")
}
