/// Who may call what, as one server sees it: the admin token, which has
/// every scope, and the scoped tokens from the tokens file, each with the
/// set of scopes it carries as bits. Which bit stands for which scope name
/// is the server's choice (a worker numbers its plugin's scopes), so a
/// request is checked with one AND and never a string compare.
///
/// A lookup allocates nothing and compares in constant time: the admin
/// token directly, a scoped token through a hash table whose hash takes a
/// random key per table, so which slot a guess lands in says nothing about
/// any token; then the bytes there are compared in full, never stopping at
/// the first differing byte.
///
/// A class: a request takes one reference to it rather than copying (and
/// retaining) each of its arrays.
public final class TokenTable {
    public typealias Scopes = UInt64

    /// The admin token's scopes: all of them, including `adminOnly`.
    public static let everything: Scopes = .max
    /// Set in no scoped token: what the control socket's routes need.
    public static let adminOnly: Scopes = 1 << 63
    /// Bits a server may give to scope names.
    public static let assignableBits = 63

    private let admin: AuthToken
    /// Scoped tokens end to end; token i is tokenBytes[starts[i]..<starts[i + 1]].
    private let tokenBytes: [UInt8]
    private let starts: [Int]
    private let scopes: [Scopes]
    /// Open addressing: 0 is empty, otherwise a token's index + 1.
    private let slots: [Int32]
    private let key: UInt64

    /// `bit` gives the bit of a scope name, or nil for a scope this server
    /// has no route for (the token is still valid for routes that need no
    /// scope).
    public init(admin: AuthToken, scoped: [ScopedToken] = [], bit: (String) -> Scopes? = { _ in nil }) {
        self.admin = admin
        var bytes: [UInt8] = []
        var starts = [0]
        var scopes: [Scopes] = []
        for token in scoped {
            bytes += token.bytes
            starts.append(bytes.count)
            scopes.append(token.scopes.reduce(0) { $0 | (bit($1) ?? 0) & ~TokenTable.adminOnly })
        }
        let key = UInt64.random(in: .min ... .max)
        var slots: [Int32] = []
        if !scoped.isEmpty {
            var capacity = 4
            while capacity < scoped.count * 2 { capacity <<= 1 }
            slots = Array(repeating: 0, count: capacity)
            bytes.withUnsafeBufferPointer { all in
                for index in scoped.indices {
                    var slot = TokenTable.hash(UnsafeBufferPointer(rebasing: all[starts[index]..<starts[index + 1]]), key: key) & (capacity - 1)
                    while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
                    slots[slot] = Int32(index + 1)
                }
            }
        }
        tokenBytes = bytes
        self.starts = starts
        self.scopes = scopes
        self.slots = slots
        self.key = key
    }

    public var scopedCount: Int { scopes.count }

    /// The scopes of the token sent, nil when it is missing or unknown.
    public func scopes(of candidate: UnsafeBufferPointer<UInt8>?) -> Scopes? {
        guard let candidate else { return nil }
        // Returning early on a match tells a client nothing its answer will
        // not tell it anyway.
        if admin.matches(candidate) { return TokenTable.everything }
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = TokenTable.hash(candidate, key: key) & mask
        return tokenBytes.withUnsafeBufferPointer { all in
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return nil }
                let stored = UnsafeBufferPointer(rebasing: all[starts[entry - 1]..<starts[entry]])
                if AuthToken.constantTimeEqual(stored, candidate) { return scopes[entry - 1] }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Eight bytes per step, keyed: several times cheaper than Hasher's
    /// SipHash, and good enough to spread random tokens, or tokens sharing
    /// a prefix, over the slots. Collisions cost a compare, never a leak.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>, key: UInt64) -> Int {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        let raw = UnsafeRawBufferPointer(bytes)
        var h = key ^ UInt64(bytes.count)
        var i = 0
        while i + 8 <= raw.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* multiplier
            h ^= h >> 29
            i += 8
        }
        while i < raw.count {
            h = (h ^ UInt64(raw[i])) &* multiplier
            i += 1
        }
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }
}
