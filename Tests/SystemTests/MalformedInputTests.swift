import Foundation
import Glibc
import XCTest

/// Generated garbage over real sockets: every input gets error answers or
/// a close (never a hang), and the workers live through all of it.
final class E2EMalformedInputTests: BerthTestCase {
    /// SplitMix64: the same inputs on every run, so a failure can be replayed.
    private struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    private static let seeds: [String] = [
        #"{"id":1,"method":"GET","path":"/hello/bob"}"#,
        #"{"method":"POST","path":"/echo","auth_token":"TOKEN","data":{"a":[1,2.5e3,-0,true,null,"s\u00e9\n"]},"headers":{"x":"y"}}"#,
        #"{"method":"GET","path":"/ping?x=1&y=%41","id":{"k":[1]}}"#,
        #"{"method":"post","path":"/echo","data":"\ud83d\ude00","auth_token":"TOKEN"}"#,
    ]

    /// One malformed input. Kinds: random bytes; a valid request with bytes
    /// flipped, inserted or deleted; a valid request cut short; and
    /// hand-made nasties (deep nesting, bad escapes, invalid UTF-8, NULs,
    /// odd numbers, wrong types, duplicate members).
    private static func input(_ g: inout Generator, token: String) -> [UInt8] {
        let seed = Array(g.pick(seeds).replacingOccurrences(of: "TOKEN", with: token).utf8)
        switch g.below(8) {
        case 0:
            return (0..<(1 + g.below(300))).map { _ in g.byte() }
        case 1, 2:
            var bytes = seed
            for _ in 0..<(1 + g.below(6)) {
                let at = g.below(bytes.count)
                switch g.below(3) {
                case 0: bytes[at] = g.byte()
                case 1: bytes.insert(g.pick(Array("{}[]\",:\\\n \0".utf8) + [0xFF, 0xC3, g.byte()]), at: at)
                default: if bytes.count > 1 { bytes.remove(at: at) }
                }
            }
            return bytes
        case 3:
            return Array(seed[0..<g.below(seed.count)])
        case 4:
            let depth = g.pick([64, 1000, 100_000])
            let open = g.below(2) == 0 ? "[" : #"{"a":"#
            let data = String(repeating: open, count: depth)
            return Array(#"{"method":"POST","path":"/echo","auth_token":"\#(token)","data":\#(data)"#.utf8)
                + (g.below(2) == 0 ? Array(String(repeating: open == "[" ? "]" : "}", count: depth).utf8) + [UInt8(ascii: "}")] : [])
        case 5:
            let value = g.pick([#""\u12"#, #""\uD800""#, #""\x""#, "\"\u{1}\"", "1e99999", "-", "01", "1.", ".5", "+1", "NaN",
                                "tru", "nul", "\"\\", String(repeating: "9", count: 5000), "[1,]", "{\"a\"}", "{,}", "\"\0\""])
            let member = g.pick(["data", "id", "method", "path", "headers", "auth_token", "other"])
            return Array(#"{"method":"POST","path":"/echo","\#(member)":"#.utf8) + Array(value.utf8) + Array("}".utf8)
        case 6:
            var bytes = seed
            let invalid: [[UInt8]] = [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0], [0xE2, 0x82]]
            bytes.insert(contentsOf: g.pick(invalid), at: g.below(bytes.count))
            return bytes
        default:
            return Array(g.pick([
                #"{"method":"GET","method":"POST","path":"/ping"}"#,
                #"{"method":"GET","path":"/ping","path":7}"#,
                #"{"method":["GET"],"path":"/ping"}"#,
                #"{"method":"GET","path":"/hello/%ZZ%"}"#,
                #"{"method":"GET","path":"/hello/%00"}"#,
                #"{"method":"GET","path":"/hello/\u0000"}"#,
                #"{"method":"GET","path":"/"}"#,
                #"{"method":"GET","path":"//../../etc/passwd"}"#,
                #"{"method":"GET","path":"/ping","headers":[]}"#,
                #"{"method":"GET","path":"/ping"}}}}"#,
                "{}", "[]", "null", "\"\"", "}", "{", "\"", "\\", "\r\n\r\n",
            ]).utf8)
        }
    }

    /// The status of a response line. Not by JSONSerialization: the id and
    /// data are echoed raw, and grammatical JSON such as a lone surrogate
    /// escape or 1e99999 is refused by Foundation.
    private static func status(of line: String) -> Int? {
        guard line.hasPrefix(#"{"id":"#), line.hasSuffix("}"),
              let match = line.range(of: #","status":[1-5][0-9][0-9],"(data|error)":"#, options: .regularExpression) else { return nil }
        return Int(line[match].dropFirst(10).prefix(3))
    }

    func testAThousandMalformedInputsGetErrorsOrACloseAndTheWorkersSurvive() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let workers = ["cecho": try workerPID("cecho"), "greeter": try workerPID("greeter")]
        var generator = Generator(state: 0x5EED)
        var errorAnswers = 0, otherAnswers = 0, closedSilently = 0
        let started = Date()
        for index in 0..<1000 {
            let bytes = Self.input(&generator, token: token)
            let service = index % 2 == 0 ? "cecho" : "greeter"
            let described = "input \(index) to \(service): \(String(decoding: bytes.prefix(120), as: UTF8.self).debugDescription)"
            let connection = try connect(service)
            // The server may close first (a 413 after a huge input): a
            // failed write is a close, and what it sent is still read.
            try? connection.write(bytes + [UInt8(ascii: "\n")])
            connection.shutdownWrite()
            var lines = 0
            while true {
                let line: String
                do {
                    line = try connection.readLine()
                } catch WireError.closed(let partial) {
                    XCTAssertEqual(partial, "", "half a line, then a close: \(described)")
                    break
                } catch {
                    XCTFail("\(error): \(described)")
                    break
                }
                lines += 1
                guard let status = Self.status(of: line) else {
                    XCTFail("not a response line: \(line.prefix(300)) for \(described)")
                    continue
                }
                if status >= 400 {
                    XCTAssertTrue(line.contains(#","error":{"code":""#) && line.contains(#","message":""#),
                                  "\(line.prefix(300)) for \(described)")
                    errorAnswers += 1
                } else {
                    otherAnswers += 1
                }
            }
            if lines == 0 { closedSilently += 1 }
        }
        print("malformed inputs: 1000 in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; \(errorAnswers) error answers, \(otherAnswers) success answers (mutations that stayed valid), \(closedSilently) closed without an answer")
        XCTAssertGreaterThan(errorAnswers, 800)
        for (service, pid) in workers {
            XCTAssertEqual(try workerPID(service), pid, "\(service)'s worker was replaced")
            XCTAssertEqual(jsonInt(try plugin(service, in: try status())["restarts"]), 0)
        }
        XCTAssertEqual(try call("greeter", "GET", "/hello/survivor").status, 200)
        XCTAssertEqual(try call("cecho", "POST", "/echo", token: token, data: "[1]").line, #"{"id":null,"status":200,"data":[1]}"#)
    }
}
