import BerthPOSIX
import Glibc

/// The shared secret in `<run-dir>/.auth_token`: 32 random bytes as hex,
/// created at first start with mode 0600 and reused afterwards.
public struct AuthToken {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public static func fileName(inRunDirectory runDirectory: String) -> String { runDirectory + "/.auth_token" }

    /// A token file the host will not serve with.
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// The host's way in: reads the token, creating it first if there is
    /// none. An existing file must be one only berth's user could have
    /// written and can read (SecretFile), or whoever planted or read it
    /// would know the admin token.
    public static func loadOrCreate(runDirectory: String) throws -> AuthToken {
        let path = fileName(inRunDirectory: runDirectory)
        var link = stat()
        if lstat(path, &link) != 0 && errno == ENOENT {
            let hex = try SecureRandom.bytes(32).map { String($0, radix: 16).leftPadded(2) }.joined()
            try Files.writeAtomically(path, Array(hex.utf8), mode: 0o600)
        }
        let fd: FileDescriptor
        do {
            // O_NOFOLLOW: a link could point the host at a file someone
            // else controls; O_NONBLOCK: a FIFO must not hang the open.
            fd = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch let error as Errno where error.code == ELOOP {
            throw Refused(description: "\(path) is a symbolic link; the admin token must be a file of berth's own: delete the link and start berth again to make a new token")
        }
        defer { fd.close() }
        let remedy = "delete it and start berth again to make a new token (and give clients the new one)"
        switch SecretFile.problem(with: try fd.status()) {
        case .notRegularFile?:
            throw Refused(description: "\(path) is not a regular file; \(remedy)")
        case .tooOpen(let permissions)?:
            throw Refused(description: "permissions \(SecretFile.octal(permissions)) for \(path) are too open: other users may have read or changed the admin token; \(remedy), or run chmod 600 \(path) if no one else could have read it")
        case .foreignOwner(let owner)?:
            throw Refused(description: "\(path) is owned by uid \(owner), not by berth's uid \(geteuid()) or root: that user may have planted it and would know the admin token; \(remedy)")
        case nil:
            return try parse(try fd.readAll(), path: path)
        }
    }

    /// The clients' way in (`berth call`, `berth status`): they may run as
    /// another user than the host (root, an operator), so they only read.
    public static func load(_ path: String) throws -> AuthToken {
        try parse(try Files.read(path), path: path)
    }

    private static func parse(_ bytes: [UInt8], path: String) throws -> AuthToken {
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
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
