@testable import BerthSupervisor
import XCTest

/// A failed plugin file's report says whether an earlier version keeps
/// serving, so the log and `berth reload` never read as "down" when it is not.
final class UnitReloadFeedbackTests: XCTestCase {
    private func sighupRun() -> ReloadRun {
        ReloadRun([ReloadRequest(restartOnly: nil, reason: "SIGHUP", done: { _ in })])
    }

    func testAFailedFileSaysWhichVersionKeepsServingOrThatNoneDoes() {
        var run = sighupRun()
        run.runFailures.append(("tokens", "bad line 3"))
        run.touched(slot: 1, file: "libold.so")
        run.touched(slot: 2, file: "libnew.so")
        run.touched(slot: 3, file: "libgone.so")
        run.settled(slot: 1, .failed(reason: "init failed"), servingVersion: "1.2.0")
        run.settled(slot: 2, .failed(reason: "not a library"), servingVersion: nil)
        run.settled(slot: 3, .notReloaded(reason: "unreadable"), servingVersion: "3")
        run.scanning = false
        let report = run.report

        XCTAssertEqual(report.failed.map(report.failureText), [
            "tokens: bad line 3",
            "libgone.so: unreadable; version 3 keeps serving",
            "libold.so: init failed; version 1.2.0 keeps serving",
            "libnew.so: not a library; not serving",
        ])
        XCTAssertEqual(report.document.serialized(),
                       #"{"added":[],"updated":[],"removed":[],"failed":[{"file":"tokens","reason":"bad line 3"},"#
                       + #"{"file":"libgone.so","reason":"unreadable","serving_version":"3"},"#
                       + #"{"file":"libold.so","reason":"init failed","serving_version":"1.2.0"},"#
                       + #"{"file":"libnew.so","reason":"not a library","serving_version":null}],"unchanged":[],"retried":[]}"#)
    }
}
