import BerthAuth
import BerthChannel
import BerthWire
import XCTest

/// The tokens file parser and the token table on their own.
final class UnitTokenTests: XCTestCase {
    let admin = AuthToken(bytes: Array(String(repeating: "f", count: 64).utf8))

    private func parse(_ text: String) throws -> [ScopedToken] {
        try TokenFile.parse(Array(text.utf8), path: "tokens", admin: admin)
    }

    private func lookup(_ table: TokenTable, _ token: String?) -> TokenTable.Scopes? {
        guard let token else { return table.scopes(of: nil) }
        return Array(token.utf8).withUnsafeBufferPointer { table.scopes(of: $0) }
    }

    func testParsesTokensScopesAndComments() throws {
        let a = String(repeating: "a", count: 32), b = String(repeating: "B", count: 40)
        let tokens = try parse("# header\n\n\(a) read,lock,read  # duplicate scope kept once\n  \(b)\tread write\n\(a.uppercased())\n")
        XCTAssertEqual(tokens, [
            ScopedToken(bytes: Array(a.utf8), scopes: ["read", "lock"]),
            ScopedToken(bytes: Array(b.utf8), scopes: ["read", "write"]),
            ScopedToken(bytes: Array(a.uppercased().utf8), scopes: []),
        ])
        XCTAssertEqual(try parse(""), [])
        // As the host hands them to a worker.
        XCTAssertEqual(try ChannelCodec.decode(ChannelCodec.encode(HostMessage.tokens(tokens))), HostMessage.tokens(tokens))
    }

    func testRefusesWhatCannotBeRight() {
        let a = String(repeating: "a", count: 32)
        let cases: [(String, String)] = [
            ("\(a) read\nshort write", "tokens:2: the token is 5 characters"),
            ("\(a) read\n\(a) write", "tokens:2: the same token is on line 1"),
            ("\(a)\" read", "tokens:1: a token may hold only"),
            ("\(a) re*d", "tokens:1: scope \"re*d\" is invalid"),
            ("\(a) \(String(repeating: "s", count: 65))", "is invalid"),
            ("\(String(repeating: "f", count: 64)) read", "tokens:1: this is the admin token"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
            }
        }
    }

    func testTableGivesEachTokenItsScopeBitsAndAdminEverything() throws {
        var scoped: [ScopedToken] = []
        for i in 0..<100 {
            scoped.append(ScopedToken(bytes: Array((String(format: "%02d", i) + String(repeating: "x", count: 40)).utf8),
                                      scopes: i % 2 == 0 ? ["even"] : ["odd", "other"]))
        }
        let bits = ["even": TokenTable.Scopes(1), "odd": 2]
        let table = TokenTable(admin: admin, scoped: scoped) { bits[$0] }
        XCTAssertEqual(lookup(table, String(repeating: "f", count: 64)), TokenTable.everything)
        for (i, token) in scoped.enumerated() {
            // "other" has no bit here: the token is valid, without it.
            XCTAssertEqual(lookup(table, String(decoding: token.bytes, as: UTF8.self)), i % 2 == 0 ? 1 : 2)
        }
        XCTAssertNil(lookup(table, nil))
        XCTAssertNil(lookup(table, ""))
        XCTAssertNil(lookup(table, "00" + String(repeating: "x", count: 39)), "a prefix is not the token")
        XCTAssertNil(lookup(table, "00" + String(repeating: "x", count: 41)), "nor is a longer one")
        XCTAssertNil(lookup(table, "00" + String(repeating: "y", count: 40)))
        XCTAssertEqual(table.scopedCount, 100)
        // No scoped token ever carries the control socket's bit.
        let greedy = TokenTable(admin: admin, scoped: [scoped[0]]) { _ in TokenTable.everything }
        XCTAssertEqual(lookup(greedy, String(decoding: scoped[0].bytes, as: UTF8.self)), TokenTable.everything & ~TokenTable.adminOnly)
        // Without a tokens file only the admin token is known.
        XCTAssertNil(lookup(TokenTable(admin: admin), String(decoding: scoped[0].bytes, as: UTF8.self)))
    }
}
