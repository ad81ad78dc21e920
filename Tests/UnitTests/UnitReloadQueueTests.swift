@testable import BerthSupervisor
import XCTest

/// Reloads asked for during a reload wait and run once, merged; a run's
/// report is what its slots settled, in the order they were touched.
final class UnitReloadQueueTests: XCTestCase {
    private func request(_ reason: String, restart files: Set<String>? = nil) -> ReloadRequest {
        ReloadRequest(restartOnly: files, reason: reason, done: { _ in })
    }

    func testReloadsAskedForDuringARunCoalesceIntoOneRunAfterIt() {
        var queue = ReloadQueue()
        let first = queue.ask(request("SIGHUP"))
        XCTAssertEqual(first?.reasons, "SIGHUP")
        XCTAssertNil(queue.ask(request("SIGHUP")))
        XCTAssertNil(queue.ask(request("restart a", restart: ["/p/liba.so"])))
        XCTAssertNil(queue.ask(request("POST /reload")))
        XCTAssertTrue(queue.isRunning)
        let next = queue.runEnded()
        XCTAssertEqual(next?.requests.count, 3)
        XCTAssertEqual(next?.reasons, "SIGHUP, restart a, POST /reload")
        XCTAssertEqual(next?.forced, ["/p/liba.so"])
        XCTAssertEqual(next?.restartsOnly, false, "a rescan was asked for too")
        XCTAssertNil(queue.runEnded())
        XCTAssertFalse(queue.isRunning)
        XCTAssertNotNil(queue.ask(request("SIGHUP")), "idle again: the next request runs at once")
    }

    func testRestartsOnlyLeaveOtherFilesAlone() {
        var queue = ReloadQueue()
        _ = queue.ask(request("SIGHUP"))
        _ = queue.ask(request("restart a", restart: ["/p/liba.so"]))
        _ = queue.ask(request("restart b", restart: ["/p/libb.so"]))
        let next = queue.runEnded()
        XCTAssertEqual(next?.restartsOnly, true)
        XCTAssertEqual(next?.forced, ["/p/liba.so", "/p/libb.so"])
    }

    func testARunEndsOnceEveryTouchedSlotHasSettled() {
        var run = ReloadRun([request("SIGHUP")])
        run.runFailures.append(("tokens", "bad line 3"))
        run.touched(slot: 1, file: "a")
        run.touched(slot: 2, file: "b")
        run.touched(slot: 3, file: "c")
        run.touched(slot: 4, file: "d")
        run.settled(slot: 2, .unchanged)
        run.settled(slot: 3, .notReloaded(reason: "unreadable"))
        XCTAssertFalse(run.isComplete)
        run.settled(slot: 4, .removed)
        run.settled(slot: 1, .failed(reason: "init failed"))
        XCTAssertFalse(run.isComplete, "still scanning")
        run.scanning = false
        XCTAssertTrue(run.isComplete)
        let report = run.report
        XCTAssertEqual(report.unchanged, ["b"])
        XCTAssertEqual(report.removed, ["d"])
        XCTAssertEqual(report.failed.map(\.0), ["tokens", "c", "a"], "run failures, then scan-time ones, then what the run started")
        XCTAssertEqual(report.summary, "0 added, 0 updated, 1 removed, 3 failed, 1 unchanged")
    }

    func testAnEmptyRunIsCompleteOnceScanned() {
        var run = ReloadRun([request("SIGHUP")])
        XCTAssertFalse(run.isComplete)
        run.scanning = false
        XCTAssertTrue(run.isComplete)
    }

    /// Only the host's own start is one: not a reload whose reason merely
    /// reads "start" (a `berth reload` could be asked for with any reason).
    func testOnlyTheHostsStartIsAStartWhateverTheReasonSays() {
        XCTAssertFalse(ReloadRun([request("start")]).isStart)
        XCTAssertTrue(ReloadRun([ReloadRequest(restartOnly: nil, reason: "start", isStart: true, done: { _ in })]).isStart)
        XCTAssertFalse(ReloadRun([request("SIGHUP")]).isStart)
    }
}
