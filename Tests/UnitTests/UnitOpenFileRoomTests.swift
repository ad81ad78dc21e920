import BerthWire
import XCTest

/// How many connections a worker serves under an open-file limit: it keeps
/// half the limit (12 to 64) for itself and its plugin (docs/operating.md,
/// `open_files`).
final class UnitOpenFileRoomTests: XCTestCase {
    private func connections(openFiles: Int, maxConnections: Int = 10_000) -> Int {
        var limits = LineServer.Limits()
        limits.maxConnections = maxConnections
        limits.fitMaxConnections(toOpenFileLimit: openFiles, plugin: "unit")
        return limits.maxConnections
    }

    func testTheSmallestLimitsStillServeSeveralConnections() {
        XCTAssertEqual(connections(openFiles: 16), 4)
        XCTAssertEqual(connections(openFiles: 24), 12)
        XCTAssertEqual(connections(openFiles: 32), 16)
        XCTAssertEqual(connections(openFiles: 128), 64)
    }

    func testLargeLimitsKeepSixtyFourForTheWorkerAndPlugin() {
        XCTAssertEqual(connections(openFiles: 1024), 960)
        XCTAssertEqual(connections(openFiles: 1 << 20), 10_000, "max_connections is lower, so it wins")
    }

    func testALowerMaxConnectionsIsKept() {
        XCTAssertEqual(connections(openFiles: 16, maxConnections: 2), 2)
    }
}
