import BerthPOSIX
import Glibc

/// The shared secret in `<run-dir>/.auth_token`: 32 random bytes as hex,
/// created at first start with mode 0600 and reused afterwards.
public struct AuthToken {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public static func fileName(inRunDirectory runDirectory: String) -> String { runDirectory + "/.auth_token" }

    /// Reads the token, creating it first if there is none.
    public static func loadOrCreate(runDirectory: String) throws -> AuthToken {
        let path = fileName(inRunDirectory: runDirectory)
        if !Files.exists(path) {
            let hex = try SecureRandom.bytes(32).map { String($0, radix: 16).leftPadded(2) }.joined()
            try Files.writeAtomically(path, Array(hex.utf8), mode: 0o600)
        }
        return try load(path)
    }

    public static func load(_ path: String) throws -> AuthToken {
        let text = try Files.readString(path).trimmingWhitespace()
        guard text.count >= 32, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Errno(EINVAL, "\(path) does not hold a token (expected 64 hex characters); delete it and restart berth to make a new one")
        }
        return AuthToken(bytes: Array(text.utf8))
    }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Compares in time that does not depend on how many leading bytes
    /// were right. A wrong length is refused at once: the length is no
    /// secret (every token is 64 hex characters).
    public func matches(_ candidate: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let candidate else { return false }
        return bytes.withUnsafeBufferPointer { AuthToken.constantTimeEqual($0, candidate) }
    }

    /// Equal bytes, in time that depends only on the lengths.
    @inline(__always)
    public static func constantTimeEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count {
            difference |= a[i] ^ b[i]
        }
        return difference == 0
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    public func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
