@testable import BerthSDK
import Foundation
import XCTest

// The SDK's streaming JSON encoder against Foundation's JSONEncoder with the
// configuration the SDK always used ([.sortedKeys, .withoutEscapingSlashes]).
// The streaming encoder sorts keys too, so the bytes must be identical; the
// JSONSerialization comparison is a second, order-independent check.

// MARK: - Shapes

private struct Greeting: Codable { let greeting: String }

/// Properties deliberately not in alphabetical order.
private struct User: Codable {
    let id: Int
    let name: String
    let email: String?
    let tags: [String]
    let address: Address?
    let scores: [Double]
    let active: Bool
}

private struct Address: Codable {
    let street: String
    let city: String
    let zip: String?
}

private struct Numbers: Codable {
    let i: Int, i8: Int8, i16: Int16, i32: Int32, i64: Int64
    let u: UInt, u8: UInt8, u16: UInt16, u32: UInt32, u64: UInt64
    let f: Float, d: Double
}

private enum Color: String, Codable { case red, green = "gr/een", blue = "bl\"ue" }
private enum Level: Int, Codable { case low = 1, high = 10 }
private enum Field: String, Codable, CodingKeyRepresentable { case zeta, alpha, mid }

private struct Palette: Codable {
    let primary: Color
    let others: [Color]
    let level: Level
    let byField: [Field: Int]
}

private struct Tree: Codable {
    let value: Int
    let children: [Tree]
}

private struct Dates: Codable {
    let when: Date
    let blob: Data
    let link: URL
    let price: Decimal
    let maybe: Date?
}

/// Writes nil explicitly (encodeNil) rather than omitting the key.
private struct ExplicitNil: Encodable {
    let a: Int?
    enum CodingKeys: String, CodingKey { case a, b }
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(a, forKey: .a)          // Optional: encodes null
        try container.encodeNil(forKey: .b)
    }
}

/// Nested containers obtained in the natural order: the nested one is
/// filled before the outer one is written again.
private struct NaturalNesting: Encodable {
    enum Outer: String, CodingKey { case z, inner, list, a }
    enum Inner: String, CodingKey { case y, x }
    func encode(to encoder: Encoder) throws {
        var outer = encoder.container(keyedBy: Outer.self)
        try outer.encode(1, forKey: .z)
        var inner = outer.nestedContainer(keyedBy: Inner.self, forKey: .inner)
        try inner.encode("why", forKey: .y)
        try inner.encode(true, forKey: .x)
        var list = outer.nestedUnkeyedContainer(forKey: .list)
        try list.encode(1)
        var deeper = list.nestedContainer(keyedBy: Inner.self)
        try deeper.encode(2.5, forKey: .x)
        var pair = list.nestedUnkeyedContainer()
        try pair.encode("p")
        try pair.encodeNil()
        try list.encode(3)
        try outer.encode("last", forKey: .a)
    }
}

/// A single-value container around a nested struct.
private struct Wrapper: Codable {
    let inner: Address
    init(_ inner: Address) { self.inner = inner }
    init(from decoder: Decoder) throws { inner = try decoder.singleValueContainer().decode(Address.self) }
    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(inner)
    }
}

// MARK: Shapes a streaming writer cannot do (the Foundation fallback)

private class Animal: Encodable {
    let name: String
    init(name: String) { self.name = name }
    private enum CodingKeys: String, CodingKey { case name }
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
    }
}

/// Class inheritance the usual way: super.encode(to:) asks the same encoder
/// for a second keyed container (JSONEncoder merges the two).
private final class Dog: Animal {
    let breed: String
    init(name: String, breed: String) {
        self.breed = breed
        super.init(name: name)
    }
    private enum CodingKeys: String, CodingKey { case breed }
    override func encode(to encoder: Encoder) throws {
        try super.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breed, forKey: .breed)
    }
}

/// Inheritance through superEncoder(forKey:).
private final class Cat: Animal {
    let lives: Int
    init(name: String, lives: Int) {
        self.lives = lives
        super.init(name: name)
    }
    private enum CodingKeys: String, CodingKey { case lives, parent }
    override func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lives, forKey: .lives)
        try super.encode(to: container.superEncoder(forKey: .parent))
    }
}

/// superEncoder() of an unkeyed container.
private struct UnkeyedSuper: Encodable {
    func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(1)
        try Address(street: "s", city: "c", zip: nil).encode(to: container.superEncoder())
        try container.encode(2)
    }
}

/// Goes back to a nested container after writing to its parent.
private struct Interleaved: Encodable {
    enum Outer: String, CodingKey { case a, nested, b }
    enum Inner: String, CodingKey { case x, y }
    func encode(to encoder: Encoder) throws {
        var outer = encoder.container(keyedBy: Outer.self)
        var nested = outer.nestedContainer(keyedBy: Inner.self, forKey: .nested)
        try nested.encode(1, forKey: .x)
        try outer.encode("A", forKey: .a)
        try nested.encode(2, forKey: .y)
        try outer.encode("B", forKey: .b)
    }
}

/// Writes to the parent's container while its own value is being encoded.
private final class OuterWriter: Encodable {
    enum Keys: String, CodingKey { case first, child, sneaky }
    var stash: KeyedEncodingContainer<Keys>?
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .first)
        stash = container
        try container.encode(Sneaky(owner: self), forKey: .child)
        stash = nil
    }
    struct Sneaky: Encodable {
        let owner: OuterWriter
        func encode(to encoder: Encoder) throws {
            var mine = encoder.singleValueContainer()
            try owner.stash?.encode(2, forKey: .sneaky)
            try mine.encode("child")
        }
    }
}

/// The same key twice: JSONEncoder keeps the last value.
private struct DuplicateKey: Encodable {
    enum Keys: String, CodingKey { case k, j }
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .k)
        try container.encode(0, forKey: .j)
        try container.encode("two", forKey: .k)
    }
}

/// A nested value that encodes nothing: JSONEncoder writes {}.
private struct Nothing: Encodable { func encode(to encoder: Encoder) throws {} }
private struct HoldsNothing: Encodable { let a = 1; let nothing = Nothing() }

/// Reads codingPath, as error-reporting code does.
private struct PathReader: Encodable {
    let value: Int
    enum Keys: String, CodingKey { case path, value }
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(encoder.codingPath.map(\.stringValue).joined(separator: "."), forKey: .path)
        try container.encode(value, forKey: .value)
    }
}

/// Encodes twice through one single-value container. JSONEncoder stops the
/// process with a precondition failure for this, so only the detection is
/// tested.
private struct TwiceSingle: Encodable {
    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(1)
        try container.encode(2)
    }
}

/// A container kept after its value ended and written to later.
private final class StaleWriter: Encodable {
    enum Keys: String, CodingKey { case a, late }
    struct Early: Encodable {
        let owner: StaleWriter
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            owner.kept = container
        }
    }
    var kept: KeyedEncodingContainer<Keys>?
    func encode(to encoder: Encoder) throws {
        var list = encoder.unkeyedContainer()
        try list.encode(Early(owner: self))
        try kept?.encode(2, forKey: .late)
        try list.encode(3)
        kept = nil
    }
}

private struct Thrower: Encodable {
    struct Failure: Error, Equatable { let reason: String }
    func encode(to encoder: Encoder) throws { throw Failure(reason: "no") }
}

private struct Deep: Encodable {
    let depth: Int
    func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        if depth > 0 { try container.encode(Deep(depth: depth - 1)) }
    }
}

private struct NonFinite: Encodable {
    let ok: Double
    let bad: Double
}

// MARK: - Tests

class UnitSDKEncoderTests: XCTestCase {
    /// Encodes with both encoders and requires the same bytes; `fast` says
    /// whether the streaming writer must manage alone (true) or must hand
    /// the value to Foundation (false).
    private func check<T: Encodable>(_ value: T, fast: Bool? = true,
                                     file: StaticString = #filePath, line: UInt = #line) {
        let expected: Data
        do {
            expected = try FastJSON.foundationEncode(value)
        } catch {
            XCTFail("Foundation failed: \(error)", file: file, line: line)
            return
        }
        let actual: [UInt8]
        do {
            actual = try FastJSON.encode(value)
        } catch {
            XCTFail("streaming encoder failed: \(error)", file: file, line: line)
            return
        }
        XCTAssertEqual(String(decoding: actual, as: UTF8.self), String(decoding: expected, as: UTF8.self),
                       file: file, line: line)
        XCTAssertEqual(actual, Array(expected), file: file, line: line)
        let options: JSONSerialization.ReadingOptions = [.fragmentsAllowed]
        if let a = try? JSONSerialization.jsonObject(with: Data(actual), options: options) as? NSObject,
           let b = try? JSONSerialization.jsonObject(with: expected, options: options) as? NSObject {
            XCTAssertEqual(a, b, file: file, line: line)
        } else {
            XCTFail("output is not JSON: \(String(decoding: actual, as: UTF8.self))", file: file, line: line)
        }
        if let fast {
            XCTAssertEqual(FastJSON.encodesWithoutFallback(value), fast,
                           fast ? "unexpected fallback to Foundation" : "fallback expected", file: file, line: line)
        }
    }

    private func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try FastJSON.encode(value), as: UTF8.self)
    }

    func testGreetingExactBytes() throws {
        XCTAssertEqual(try text(Greeting(greeting: "Hello, bob!")), #"{"greeting":"Hello, bob!"}"#)
        check(Greeting(greeting: "Hello, bob!"))
    }

    func testNestedStructsSortedLikeFoundation() throws {
        let user = User(id: 42, name: "Ann", email: nil, tags: ["a", "b/c"],
                        address: Address(street: "1 Main St", city: "Paris", zip: "75001"),
                        scores: [1.0, 2.5, -0.0, 1e21], active: true)
        check(user)
        XCTAssertEqual(try text(user),
                       #"{"active":true,"address":{"city":"Paris","street":"1 Main St","zip":"75001"},"id":42,"name":"Ann","scores":[1,2.5,-0,1e+21],"tags":["a","b/c"]}"#)
        check(User(id: -1, name: "", email: "x@y", tags: [], address: nil, scores: [], active: false))
        check([user, user])
        check(["first": user])
    }

    func testOptionals() {
        check(Address(street: "s", city: "c", zip: nil))        // key omitted
        check(Address(street: "s", city: "c", zip: "z"))
        check(ExplicitNil(a: nil))                              // "a":null,"b":null
        check(ExplicitNil(a: 3))
        check([1, nil, 3] as [Int?])
        check(Optional<Int>.none)
        check(Optional<Address>.some(Address(street: "s", city: "c", zip: nil)))
        check([String: Int?](uniqueKeysWithValues: [("x", nil), ("y", 1)]))
    }

    func testDictionaries() {
        check([String: Int]())
        check(["b": 1, "a": 2, "A": 3, "é": 4, "a!": 5, "": 6, "ab": 7, "aa": 8])
        var big: [String: Int] = [:]
        for i in 0..<200 { big["key\(i * 7919 % 1000)"] = i }
        check(big)                                              // more than the insertion-sort limit
        check([3: "x", 10: "y", 2: "z", -1: "m"])                // Int keys are strings, sorted as text
        check(["outer": ["z": [1, 2], "a": []], "b": [:]])
        check([Field.zeta: 1, Field.alpha: 2, Field.mid: 3])     // CodingKeyRepresentable keys
        check(["k": Tree(value: 1, children: [])])
    }

    func testEnumsWithRawValues() {
        check(Palette(primary: .green, others: [.red, .blue, .green], level: .high,
                      byField: [.mid: 1, .zeta: 2]))
        check(Color.blue)
        check([Level.low, Level.high])
    }

    func testStringEscaping() throws {
        XCTAssertEqual(try text("a/b"), #""a/b""#)
        XCTAssertEqual(try text("\u{1}\u{1f}\t\n\r\u{8}\u{c}\"\\"), #""\u0001\u001f\t\n\r\b\f\"\\""#)
        for string in ["", "\u{0001}", "\"", "\\", "/", "é", "日本語", "😀", "\u{7f}", "\u{2028}", "a\u{0}b",
                       "plain ascii text longer than sixteen bytes", "ends with a quote\"", "\\starts",
                       String(repeating: "x", count: 1000) + "\n"] {
            check(string)
            check(Greeting(greeting: string))
            check([string: string])
        }
        // Every ASCII byte, at every position of strings of 1 to 24 bytes:
        // exercises the eight-bytes-at-a-time scan and its tail handling.
        for byte in UInt8(0)..<128 {
            for length in 1...24 {
                for position in [0, length / 2, length - 1] {
                    var bytes = [UInt8](repeating: UInt8(ascii: "k"), count: length)
                    bytes[position] = byte
                    let string = String(decoding: bytes, as: UTF8.self)
                    let expected = String(decoding: try FastJSON.foundationEncode(string), as: UTF8.self)
                    XCTAssertEqual(try text(string), expected, "byte \(byte) at \(position) of \(length)")
                }
            }
        }
    }

    func testKeysNeedingEscapes() {
        check(Greeting(greeting: "x"))
        check(["only \"key\"": 1])                             // one escaped key: streamed
        check(["a\"b": 1, "c": 2, "\u{1}": 3], fast: false)    // escaped keys to sort: Foundation
    }

    func testIntegers() {
        check(Numbers(i: .min, i8: .min, i16: .min, i32: .min, i64: .min,
                      u: .max, u8: .max, u16: .max, u32: .max, u64: .max, f: 1.5, d: -2.25))
        check(Numbers(i: .max, i8: .max, i16: .max, i32: .max, i64: .max,
                      u: 0, u8: 0, u16: 0, u32: 0, u64: 0, f: 0, d: 0))
        check([0, 1, -1, 9, 10, 99, 100, Int.max, Int.min])
        check([Int128.max, Int128.min, 0, -1])
        check([UInt128.max, 0])
        check(Int128(1) << 100)
    }

    func testFloatingPoint() {
        var doubles: [Double] = [0, -0.0, 1, -1, 0.1, 0.5, 1.5, 100, 1e15, 1e16, 1e20, 1e21, 1e-7, 123456789.125,
                                 9007199254740991, 9007199254740992, 9007199254740994, -9007199254740992,
                                 4503599627370496.5, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                 .leastNonzeroMagnitude, .leastNormalMagnitude, .pi, 1.0 / 3]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            doubles.append(Double(bitPattern: generator.next()))
            doubles.append(Double(Int64.random(in: -1 << 60 ... 1 << 60)))
            doubles.append(Double.random(in: -1e6...1e6).rounded())
        }
        doubles = doubles.filter(\.isFinite)
        check(doubles)
        for value in doubles.prefix(100) { check(value) }
        var floats: [Float] = [0, -0.0, 1, 0.1, 1e20, 3.4028235e38, 16777216, 16777218, .leastNonzeroMagnitude]
        for _ in 0..<1000 { floats.append(Float(bitPattern: UInt32.random(in: 0 ... .max))) }
        floats = floats.filter(\.isFinite)
        check(floats)
        check(Float(0.1))
        check(Float16(0.1))
    }

    func testNonFiniteFailsLikeFoundation() {
        for bad in [Double.nan, .infinity, -.infinity] {
            let value = NonFinite(ok: 1, bad: bad)
            XCTAssertFalse(FastJSON.encodesWithoutFallback(value))
            let fast = Result { try FastJSON.encode(value) }
            let foundation = Result { try FastJSON.foundationEncode(value) }
            guard case .failure(let error) = fast, case .failure(let expected) = foundation else {
                XCTFail("\(bad) was encoded")
                continue
            }
            XCTAssertEqual(describeCodingError(error), describeCodingError(expected))
            XCTAssertEqual("\(error)", "\(expected)")
        }
        XCTAssertThrowsError(try FastJSON.encode([Float.nan]))
    }

    func testTopLevelFragmentsAndCollections() {
        check("text")
        check(42)
        check(-3.5)
        check(true)
        check([Int]())
        check([[1, 2], [], [3]])
        check(Set([1, 2, 3]))
        check([[String: [Int]]]())
    }

    func testFoundationTypesLikeJSONEncoder() {
        let value = Dates(when: Date(timeIntervalSinceReferenceDate: 123456.789),
                          blob: Data([0, 1, 2, 250, 251, 252, 253, 254, 255]),
                          link: URL(string: "https://example.com/a/b?c=d&e=f")!,
                          price: Decimal(string: "1234.5678")!,
                          maybe: Date(timeIntervalSinceReferenceDate: 0))
        check(value)
        check(Dates(when: Date(timeIntervalSince1970: 0), blob: Data(), link: URL(fileURLWithPath: "/tmp/x y"),
                    price: Decimal(-1), maybe: nil))
        check(Date(timeIntervalSinceReferenceDate: 1.5))
        check(Data("hello".utf8))
        check(URL(string: "http://x/y")!)
        check(Decimal(string: "0.000001")!)
        check([Date(timeIntervalSinceReferenceDate: 10), Date(timeIntervalSinceReferenceDate: -10.25)])
        check(["d": Decimal(3)])
        check(UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!)
    }

    func testNaturalNestedContainers() {
        check(NaturalNesting())
        check(Wrapper(Address(street: "s", city: "c", zip: nil)))
        check([Wrapper(Address(street: "s", city: "c", zip: "z"))])
        check(Tree(value: 1, children: [Tree(value: 2, children: [Tree(value: 3, children: [])]),
                                        Tree(value: 4, children: [])]))
        check(HoldsNothing(), fast: false)
    }

    func testUnusualContainerUseFallsBackToFoundation() {
        check(Dog(name: "Rex", breed: "collie"), fast: false)
        check(Cat(name: "Tom", lives: 9), fast: false)
        check(UnkeyedSuper(), fast: false)
        check(Interleaved(), fast: false)
        check(OuterWriter(), fast: false)
        check(DuplicateKey(), fast: false)
        check(PathReader(value: 1), fast: false)
        check(["x": PathReader(value: 2)], fast: false)
        check(StaleWriter(), fast: false)
        XCTAssertFalse(FastJSON.encodesWithoutFallback(TwiceSingle()))
        // The encoder is fine afterwards.
        check(Greeting(greeting: "again"))
    }

    func testErrorsPropagate() {
        XCTAssertThrowsError(try FastJSON.encode(Thrower())) { error in
            XCTAssertEqual(error as? Thrower.Failure, Thrower.Failure(reason: "no"))
        }
        XCTAssertThrowsError(try FastJSON.encode(Nothing()))   // top level with no value, as Foundation
        XCTAssertThrowsError(try FastJSON.foundationEncode(Nothing()))
    }

    func testNestingLimitMatchesFoundation() {
        check(Deep(depth: 100))
        let tooDeep = Deep(depth: 600)
        XCTAssertFalse(FastJSON.encodesWithoutFallback(tooDeep))
        let fast = Result { try FastJSON.encode(tooDeep) }
        let foundation = Result { try FastJSON.foundationEncode(tooDeep) }
        switch (fast, foundation) {
        case (.success(let a), .success(let b)): XCTAssertEqual(a, Array(b))
        case (.failure, .failure): break
        default: XCTFail("streaming \(fast) but Foundation \(foundation)")
        }
    }

    func testLargeOutputGrowsTheBuffer() {
        let users = (0..<2000).map {
            User(id: $0, name: "user \($0)", email: $0 % 3 == 0 ? nil : "u\($0)@example.com", tags: ["t\($0 % 7)"],
                 address: nil, scores: [Double($0) / 8], active: $0 % 2 == 0)
        }
        check(users)
        check(Greeting(greeting: "small after large"))
        // Past the capacity kept between encodings (1 MiB), for the output
        // and for the copy a dictionary sort makes.
        check([String(repeating: "long text ", count: 150_000)])
        check(Greeting(greeting: "small after huge"))
        var dictionary: [String: String] = [:]
        for i in 0..<20_000 { dictionary["key \(i)"] = String(repeating: "v", count: 60) }
        check(dictionary)
        check(["b": 1, "a": 2])
    }

    func testNestedCallFallsBackToFoundation() throws {
        // Only a test can nest encodings; the outer one must not be disturbed.
        let bytes = try FastJSON.withEncoded(Greeting(greeting: "outer")) { outer -> [UInt8] in
            let inner = try FastJSON.encode(Greeting(greeting: "inner"))
            XCTAssertEqual(String(decoding: inner, as: UTF8.self), #"{"greeting":"inner"}"#)
            return Array(outer)
        }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #"{"greeting":"outer"}"#)
    }

    func testResponseBodies() throws {
        XCTAssertEqual(try Response(status: 201, body: Greeting(greeting: "hi")).encodedBody(),
                       Array(#"{"greeting":"hi"}"#.utf8))
        XCTAssertEqual(try Response(body: RawJSON(#"{"z":1, "a" : [ ]}"#)).encodedBody(),
                       Array(#"{"z":1, "a" : [ ]}"#.utf8))                     // raw JSON untouched
        XCTAssertEqual(try Response(status: 204).encodedBody(), [])            // null
        XCTAssertThrowsError(try Response(body: NonFinite(ok: 0, bad: .nan)).encodedBody())
    }
}
