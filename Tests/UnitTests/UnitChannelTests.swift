import BerthAuth
import BerthChannel
import BerthPOSIX
import BerthWire
import Glibc
import XCTest

/// The host <-> worker channel without processes: every message through
/// the codec and back, the framing, and both ends on a real socket pair.
final class UnitChannelTests: XCTestCase {
    /// Text that a split on spaces or lines, or a C string, would break.
    static let oddTexts = ["a b", "line\nbreak\r\n", "", " ", "scope=x public", "nul\u{0}inside", "é🚢\u{FFFD}\u{7F}", "\t\\\""]

    /// Every byte value, and sequences that are not UTF-8.
    static func oddBytes(count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) } + [0xFF, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0]
    }

    private func roundTrip<Message: ChannelMessage>(_ message: Message, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try ChannelCodec.encode(message)
        XCTAssertEqual(try ChannelCodec.decode(bytes, as: Message.self), message, file: file, line: line)
    }

    static let serve = ServeSettings(
        adminToken: Array("f00d".utf8) + [0, 0xFF],
        clientLimits: ClientLimits(maxRequestBytes: 1 << 30, idleTimeout: 0.25, readTimeout: .infinity, maxConnections: 1),
        timeouts: HandlerTimeouts(requestMilliseconds: 30_000,
                                  routeMilliseconds: oddTexts.map { .init(route: "GET /\($0)", milliseconds: .max) }),
        scopedTokens: [ScopedToken(bytes: oddBytes(count: 40), scopes: oddTexts), ScopedToken(bytes: [], scopes: [])],
        allowedUIDs: [0, 1000, .max])

    func testEveryHostMessageRoundTrips() throws {
        try roundTrip(HostMessage.setup(WorkerSetup(config: [])))
        try roundTrip(HostMessage.setup(WorkerSetup(config: Array("{}".utf8), cpuSeconds: 1, openFiles: 16)))
        try roundTrip(HostMessage.setup(WorkerSetup(config: Self.oddBytes(count: 300 * 1024), cpuSeconds: Int.max, openFiles: nil,
                                                    credentials: WorkerCredentials(uid: 0, gid: nil, settingsText: "user a b\nc"))))
        try roundTrip(HostMessage.setup(WorkerSetup(config: [0], credentials: WorkerCredentials(uid: nil, gid: .max, settingsText: ""))))
        try roundTrip(HostMessage.serve(Self.serve))
        var noUIDs = Self.serve
        noUIDs.allowedUIDs = nil
        noUIDs.timeouts = HandlerTimeouts(requestMilliseconds: 0)
        try roundTrip(HostMessage.serve(noUIDs))
        try roundTrip(HostMessage.tokens([]))
        try roundTrip(HostMessage.tokens(Self.serve.scopedTokens))
    }

    func testEveryWorkerMessageRoundTrips() throws {
        let routes = Self.oddTexts.enumerated().map { i, text in
            ChannelRoute(method: HTTPMethod.allCases[i % HTTPMethod.allCases.count], pattern: "/\(text)/{id}", isPublic: i % 2 == 0,
                         scope: i % 3 == 0 ? nil : text)
        }
        for text in Self.oddTexts {
            try roundTrip(WorkerMessage.loaded(PluginReport(name: text, version: text, abi: text, routes: routes)))
            try roundTrip(WorkerMessage.failed(reason: text))
            try roundTrip(WorkerMessage.timeout(route: "GET /\(text)", limitMilliseconds: 2000))
        }
        try roundTrip(WorkerMessage.loaded(PluginReport(name: "none", version: "", abi: "1.1", routes: [])))
        try roundTrip(WorkerMessage.tokensApplied)
    }

    func testTenThousandRoutesRoundTrip() throws {
        let routes = (0..<10_000).map { ChannelRoute(method: .get, pattern: "/r\($0)/{name}", isPublic: $0 % 2 == 0, scope: "read") }
        let message = WorkerMessage.loaded(PluginReport(name: "many", version: "1.0.0", abi: "1.1", routes: routes))
        let datagrams = try ChannelCodec.datagrams(message)
        XCTAssertGreaterThan(datagrams.count, 1)
        var reassembler = ChannelReassembler()
        var whole: [UInt8]?
        for datagram in datagrams {
            XCTAssertNil(whole, "a message ended before its last datagram")
            whole = try datagram.withUnsafeBytes { try reassembler.add($0) }?.message
        }
        XCTAssertEqual(try ChannelCodec.decode(try XCTUnwrap(whole), as: WorkerMessage.self), message)
    }

    func testALargeMessageIsCutIntoDatagramsAndJoinedFromThem() throws {
        let first = HostMessage.setup(WorkerSetup(config: Self.oddBytes(count: 300 * 1024)))
        let second = HostMessage.tokens(Self.serve.scopedTokens)
        let datagrams = try ChannelCodec.datagrams(first) + ChannelCodec.datagrams(second)
        XCTAssertGreaterThanOrEqual(datagrams.count, 10)
        XCTAssertTrue(datagrams.allSatisfy { $0.count <= ChannelProtocol.datagramBytes })
        var reassembler = ChannelReassembler()
        var messages: [HostMessage] = []
        for datagram in datagrams {
            if let (bytes, fd) = try datagram.withUnsafeBytes({ try reassembler.add($0) }) {
                XCTAssertNil(fd)
                messages.append(try ChannelCodec.decode(bytes))
            }
            XCTAssertEqual(reassembler.isPartial, datagram.first == UInt8(ascii: "M"))
        }
        XCTAssertEqual(messages, [first, second])
        // An empty message is one datagram too.
        XCTAssertEqual(ChannelFraming.datagrams(for: []), [[UInt8(ascii: "E")]])
    }

    func testGarbageIsAnErrorNotACrash() throws {
        let valid = try ChannelCodec.encode(HostMessage.serve(Self.serve))
        // Every cut of a valid message, and every message with a byte changed
        // at a few places, either fails to decode or decodes: never traps.
        for length in 0..<valid.count {
            XCTAssertThrowsError(try ChannelCodec.decode(Array(valid[..<length]), as: HostMessage.self), "cut at \(length)")
        }
        for position in stride(from: 0, to: valid.count, by: 7) {
            for value: UInt8 in [0, 1, 0x7F, 0xFF] {
                var changed = valid
                changed[position] = value
                _ = try? ChannelCodec.decode(changed, as: HostMessage.self)
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let noise = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? ChannelCodec.decode(noise, as: WorkerMessage.self)
            _ = try? ChannelCodec.decode(noise, as: HostMessage.self)
        }
        func message(_ bytes: [UInt8]) -> String {
            do {
                _ = try ChannelCodec.decode(bytes, as: WorkerMessage.self)
                return "decoded"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message([]), "malformed channel message: message type needs 1 bytes but 0 are left at byte 0 of 0")
        XCTAssertEqual(message([99]), "malformed channel message: unknown worker message type 99 at byte 1 of 1")
        XCTAssertEqual(message([4, 0]), "malformed channel message: 1 bytes left over after a tokens-applied message at byte 1 of 2")
        XCTAssertTrue(message([2, 0xFF, 0xFF, 0xFF, 0xFF]).contains("reason counts 4294967295 items but 0 bytes are left"))
        XCTAssertTrue(message([2, 2, 0, 0, 0, 0xC0, 0x80]).contains("reason is not UTF-8"))
        XCTAssertTrue(message([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0])
            .contains("unknown route method 9"))

        var reassembler = ChannelReassembler()
        for datagram: [UInt8] in [[], [0], [UInt8(ascii: "X"), 1, 2]] {
            XCTAssertThrowsError(try datagram.withUnsafeBytes { try reassembler.add($0) }) {
                XCTAssertTrue("\($0)".contains("instead of a frame header"), "\($0)")
            }
        }
    }

    func testAMessageOverTheLimitIsRefusedWhole() throws {
        let limit = ChannelProtocol.maximumMessageBytes
        let setup = HostMessage.setup(WorkerSetup(config: [UInt8](repeating: 0x20, count: limit)))
        XCTAssertThrowsError(try ChannelCodec.encode(setup)) {
            XCTAssertEqual("\($0)", "the setup message is \(limit + 5 + 3) bytes, over the channel's limit of \(limit) bytes (64 MiB)")
        }
        // A sender that ignores the limit is stopped by the receiver.
        var reassembler = ChannelReassembler()
        let piece = [UInt8(ascii: "M")] + [UInt8](repeating: 0, count: ChannelProtocol.datagramBytes - 1)
        var refused: Error?
        for _ in 0...(limit / (piece.count - 1)) where refused == nil {
            do { _ = try piece.withUnsafeBytes { try reassembler.add($0) } } catch { refused = error }
        }
        let pieces = limit / (piece.count - 1) + 1
        XCTAssertEqual(refused as? ChannelError, .tooLarge(kind: "incoming", bytes: pieces * (piece.count - 1)))
        XCTAssertFalse(reassembler.isPartial)
    }

    func testInheritedDescriptorsAreNumberedAsSpawnNumbersThem() {
        let worker = InheritedDescriptors.inWorker
        XCTAssertEqual(worker.spawnOrder.map(\.rawValue), [3, 4, 5])
        XCTAssertEqual([worker.channel, worker.library, worker.stats].map(\.rawValue), [3, 4, 5])
        let host = InheritedDescriptors(channel: FileDescriptor(rawValue: 40), library: FileDescriptor(rawValue: 9),
                                        stats: FileDescriptor(rawValue: 12))
        XCTAssertEqual(host.spawnOrder.map(\.rawValue), [40, 9, 12])
    }

    /// Each direction has its own limit: a worker's messages 16 MiB (the
    /// host buffers them), the host's 64 MiB (a plugin's config).
    func testAWorkersMessagesHaveTheirOwnSmallerLimit() throws {
        let workerLimit = ChannelProtocol.maximumWorkerMessageBytes
        let failed = WorkerMessage.failed(reason: String(repeating: "x", count: workerLimit))
        XCTAssertThrowsError(try ChannelCodec.encode(failed)) {
            XCTAssertEqual("\($0)", "the failed message is \(workerLimit + 5) bytes, over the channel's limit of \(workerLimit) bytes (16 MiB)")
        }
        XCTAssertThrowsError(try ChannelCodec.decode([UInt8](repeating: 2, count: workerLimit + 1), as: WorkerMessage.self)) {
            XCTAssertEqual($0 as? ChannelError, .tooLarge(kind: "received", bytes: workerLimit + 1, limit: workerLimit))
        }
        // The host's own messages keep the larger limit.
        let setup = HostMessage.setup(WorkerSetup(config: [UInt8](repeating: 0x20, count: workerLimit)))
        XCTAssertEqual(try ChannelCodec.decode(try ChannelCodec.encode(setup), as: HostMessage.self), setup)
    }
}
