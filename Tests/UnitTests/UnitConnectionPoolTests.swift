import BerthPOSIX
@testable import BerthWire
import XCTest

/// A closed connection object serves a later client (ConnectionPool): it
/// must carry nothing of its last client, and must not be handed out while
/// anything still holds it.
final class UnitConnectionPoolTests: XCTestCase {
    private final class NoHandler: RequestHandler {
        func handle(_ request: IncomingRequest, reply: borrowing ReplyContext) {}
    }

    private var loop: EventLoop!
    private var server: LineServer!
    private let handler = NoHandler()

    override func setUpWithError() throws {
        loop = try EventLoop()
        server = LineServer(loop: loop, listener: FileDescriptor(rawValue: -1), handler: handler)
    }

    /// The per-client state `Connection.open` resets. A property added to
    /// Connection fails this test until it is reset there and listed here.
    private let perClient: Set<String> = [
        "fd", "server", "framer", "outputSent", "closeAfterFlush", "watchingWritable", "discardingInput",
        "answered", "replyState", "receivedAt", "peer", "sweepAnswered", "sweepSent", "progressAt",
        "requestSince",
    ]
    /// Emptied by `Connection.close`, memory kept.
    private let buffers: Set<String> = ["input", "output"]

    private func fields(_ connection: Connection) -> [String: String] {
        var fields: [String: String] = [:]
        for child in Mirror(reflecting: connection).children {
            fields[child.label!] = String(describing: child.value)
        }
        return fields
    }

    func testAReopenedConnectionStartsAfresh() throws {
        let fresh = Connection()
        fresh.open(FileDescriptor(rawValue: -1), on: server)
        XCTAssertEqual(Set(fields(fresh).keys), perClient.union(buffers),
                       "Connection's stored properties changed: reset each new one in Connection.open and list it here")

        let used = Connection()
        used.open(FileDescriptor(rawValue: -1), on: server)
        let half = Array(#"{"method":"GET","path":"/pi"#.utf8)
        _ = half.withUnsafeBufferPointer { used.framer.next($0) }
        let space = used.input.reserve(minimum: half.count, limit: 65536)
        space.copyBytes(from: half)
        used.input.commit(half.count)
        used.output = Array(#"{"status":200}"#.utf8) + [0x0A]
        used.outputSent = 3
        used.closeAfterFlush = true
        used.watchingWritable = true
        used.discardingInput = true
        used.answered = 7
        used.replyState = .deferred
        used.receivedAt = 11
        used.peer = PeerCredentials(pid: 1, uid: 2, gid: 3)
        used.sweepAnswered = 5
        used.sweepSent = 9
        used.progressAt = 13
        used.requestSince = 17
        let dirty = fields(used)
        for name in perClient.subtracting(["fd", "server"]) {
            XCTAssertNotEqual(dirty[name], fields(fresh)[name], "the test does not change \(name)")
        }

        used.close()
        XCTAssertNil(used.server, "a closed connection still holds its server")
        XCTAssertEqual(used.input.count, 0)
        XCTAssertTrue(used.output.isEmpty)
        XCTAssertGreaterThan(used.output.capacity, 0, "the output array's memory was not kept")

        used.open(FileDescriptor(rawValue: -1), on: server)
        let reopened = fields(used)
        for name in perClient {
            XCTAssertEqual(reopened[name], fields(fresh)[name], "\(name) kept its last client's value")
        }
    }

    func testThePoolPassesByAConnectionSomethingStillHolds() {
        var pool = ConnectionPool()
        let held = Connection()
        pool.recycle(held)
        let other = pool.take(budget: InputBudget())
        XCTAssertFalse(other === held, "handed out a connection a deferred reply or timer still holds")

        var free: Connection? = Connection()
        let identity = ObjectIdentifier(free!)
        pool.recycle(free!)
        free = nil
        XCTAssertEqual(ObjectIdentifier(pool.take(budget: InputBudget())), identity, "a connection nothing holds was not reused")
        withExtendedLifetime(held) {}
    }

    func testThePoolKeepsNoConnectionWithGrownBuffers() {
        var pool = ConnectionPool()
        var grown: Connection? = Connection()
        _ = grown!.input.reserve(minimum: ConnectionPool.largestKept * 2, limit: ConnectionPool.largestKept * 4)
        pool.recycle(grown!)
        grown = nil
        XCTAssertLessThanOrEqual(pool.take(budget: InputBudget()).input.capacity, ConnectionPool.largestKept,
                                 "kept a connection whose buffer grew past the limit")
    }
}
