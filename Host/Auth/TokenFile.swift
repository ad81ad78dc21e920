import BerthPOSIX
import Glibc

/// A token from the tokens file and the scopes it carries.
public struct ScopedToken: Equatable {
    public let bytes: [UInt8]
    public let scopes: [String]

    public init(bytes: [UInt8], scopes: [String]) {
        self.bytes = bytes
        self.scopes = scopes
    }
}

/// The tokens file (`berth serve --tokens FILE`): one token per line,
/// followed by the scopes it carries.
///
///     # who may call what
///     3b0c...e1  read
///     9f2a...77  read,lock
///     c41d...0b  read,lock,write
///
/// A route that names a scope admits a token that carries it (and the admin
/// token); a route that names none admits any valid token. `#` starts a
/// comment. Like ssh with a private key, the host refuses a file that its
/// group or others may read or write, or that another user owns.
public enum TokenFile {
    public static let maximumBytes = 32768
    public static let minimumTokenLength = 32
    public static let maximumTokenLength = 512
    public static let maximumScopeLength = 64

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(_ path: String, admin: AuthToken) throws -> [ScopedToken] {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, O_RDONLY)
        } catch {
            throw Invalid(description: "cannot open the tokens file: \(error); create it (mode 0600) or leave out --tokens")
        }
        defer { fd.close() }
        // fstat on the descriptor we read, so the file cannot be swapped
        // between the check and the read.
        let status = try fd.status()
        switch SecretFile.problem(with: status) {
        case .notRegularFile?:
            throw Invalid(description: "\(path) is not a regular file")
        case .tooOpen(let permissions)?:
            throw Invalid(description: "permissions \(SecretFile.octal(permissions)) for \(path) are too open: other users could read or change the tokens; run chmod 600 \(path)")
        case .foreignOwner(let owner)?:
            throw Invalid(description: "\(path) is owned by uid \(owner), not by berth's uid \(geteuid()) or root; run chown \(geteuid()) \(path)")
        case nil:
            break
        }
        guard status.size <= maximumBytes else {
            throw Invalid(description: "\(path) is \(status.size) bytes; a tokens file may hold at most \(maximumBytes)")
        }
        return try parse(try fd.readAll(), path: path, admin: admin)
    }

    public static func parse(_ bytes: [UInt8], path: String, admin: AuthToken) throws -> [ScopedToken] {
        var tokens: [ScopedToken] = []
        var lines: [[UInt8]: Int] = [:]
        for (index, raw) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func invalid(_ reason: String) -> Invalid { Invalid(description: "\(path):\(number): \(reason)") }
            let content = raw.prefix { $0 != UInt8(ascii: "#") }
            let fields = content.split { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == UInt8(ascii: ",") }
            guard let token = fields.first.map(Array.init) else { continue }
            guard token.allSatisfy(isTokenByte) else {
                throw invalid("a token may hold only letters, digits and - . _ ~ + / = (e.g. the output of `openssl rand -hex 32`)")
            }
            guard (minimumTokenLength...maximumTokenLength).contains(token.count) else {
                throw invalid("the token is \(token.count) characters; use \(minimumTokenLength) to \(maximumTokenLength) (e.g. `openssl rand -hex 32`)")
            }
            guard token != admin.bytes else {
                throw invalid("this is the admin token from .auth_token, which has every scope already; give scoped clients tokens of their own")
            }
            if let first = lines[token] {
                throw invalid("the same token is on line \(first); each token appears once, with all its scopes")
            }
            lines[token] = number
            var scopes: [String] = []
            for field in fields.dropFirst() {
                let scope = String(decoding: field, as: UTF8.self)
                guard isValidScope(scope) else {
                    throw invalid("scope \"\(scope)\" is invalid: use 1 to \(maximumScopeLength) letters, digits, '_', '-', '.' or ':'")
                }
                if !scopes.contains(scope) { scopes.append(scope) }
            }
            tokens.append(ScopedToken(bytes: token, scopes: scopes))
        }
        return tokens
    }

    public static func isValidScope(_ scope: String) -> Bool {
        (1...maximumScopeLength).contains(scope.utf8.count) && scope.utf8.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":")
        }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || "-._~+/=".utf8.contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
