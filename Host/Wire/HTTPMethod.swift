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
        var buffer: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0)
        var count = 0
        for byte in bytes {
            guard count < 7 else { return nil }
            withUnsafeMutableBytes(of: &buffer) { $0[count] = byte & 0xDF } // ASCII upper case
            count += 1
        }
        self.init(upperCased: buffer, count: count)
    }

    /// Matches on length and bytes, without building a String: this runs
    /// once per request.
    @inline(__always)
    private init?(upperCased b: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8), count: Int) {
        switch (count, b.0) {
        case (3, 0x47) where b.1 == 0x45 && b.2 == 0x54: self = .get                                   // GET
        case (4, 0x50) where b.1 == 0x4F && b.2 == 0x53 && b.3 == 0x54: self = .post                   // POST
        case (3, 0x50) where b.1 == 0x55 && b.2 == 0x54: self = .put                                   // PUT
        case (5, 0x50) where b.1 == 0x41 && b.2 == 0x54 && b.3 == 0x43 && b.4 == 0x48: self = .patch   // PATCH
        case (6, 0x44) where b.1 == 0x45 && b.2 == 0x4C && b.3 == 0x45 && b.4 == 0x54 && b.5 == 0x45: self = .delete
        case (4, 0x48) where b.1 == 0x45 && b.2 == 0x41 && b.3 == 0x44: self = .head                   // HEAD
        case (7, 0x4F) where b.1 == 0x50 && b.2 == 0x54 && b.3 == 0x49 && b.4 == 0x4F && b.5 == 0x4E && b.6 == 0x53: self = .options
        default: return nil
        }
    }

    public static let allNames = allCases.map(\.description).joined(separator: ", ")
}
