@testable import BerthSupervisor
import BerthPOSIX
import Glibc
import XCTest

/// Workers that end on their own: a crash while loading, crashes and their
/// backoff, the crash loop and `berth restart`, timeouts.
final class UnitSlotMachineExitTests: XCTestCase {
    func testACrashWhileLoadingFailsTheGenerationInsteadOfRestarting() {
        var driver = SlotMachineDriver()
        let started = driver.startSpawns(driver.scan("v1"))
        let exited = driver.exit(started.pids[0], .killed(SIGSEGV))
        let reason = "/plugins/libgreeter.so: the worker killed by SIGSEGV while loading the plugin (a crash in its entry or init function?)"
        XCTAssertEqual(exited, [.log(LogLine(level: .error, message: "plugin not loaded: \(reason)", plugin: nil)),
                                .settled(.failed(reason: reason))])
        XCTAssertEqual(driver.machine.state, .failed)
        XCTAssertEqual(driver.machine.restarts, 0)
    }

    func testACrashWhileTheNewVersionLoadsFailsOnlyTheNewVersion() {
        var driver = SlotMachineDriver()
        _ = driver.bringUp("v1")
        let started = driver.startSpawns(driver.scan("v2"))
        let exited = driver.exit(started.pids[0], .killed(SIGABRT), breach: .memory(residentBytes: 300 << 20, limitMB: 100))
        XCTAssertEqual(exited.settled, [.failed(reason: "/plugins/libgreeter.so: the worker was stopped while loading the plugin: memory_mb limit broken: resident size 300 MiB, limit 100 MiB (killed)")])
        XCTAssertEqual(driver.machine.state, .running)
    }

    func testACrashRestartsTheSameInstanceWithBackoff() {
        var driver = SlotMachineDriver()
        let up = driver.bringUp("v1", instances: 2)
        let crashed = driver.exit(up.pids[1], .killed(SIGSEGV), uptime: 5)
        XCTAssertEqual(crashed.restarts.map(\.instance), [1])
        XCTAssertEqual(crashed.restarts.map(\.delay), [0.1])
        XCTAssertEqual(crashed.errors, ["worker 101 killed by SIGSEGV; restarting in 0.1 s (restart 1); other plugins are unaffected"])
        XCTAssertEqual(crashed.settled, [], "a crash is not part of any reload")
        XCTAssertEqual(driver.machine.state, .restarting)
        XCTAssertEqual(driver.machine.lastExit, "killed by SIGSEGV")
        let due = driver.feed(.restartTimerFired(generation: 1, instance: 1))
        XCTAssertEqual(due, [.spawn(generation: 1, instance: 1)])
        let started = driver.startSpawns(due)
        XCTAssertEqual(driver.serve(started.pids[0]).infos, ["serving /run/berth/greeter.sock (version 1.0, generation 1, worker 102, restart 1)"])
        XCTAssertEqual(driver.machine.state, .running)
        XCTAssertEqual(driver.exit(started.pids[0], .exited(3), uptime: 5).restarts.map(\.delay), [0.2], "backoff doubles")
    }

    func testACrashLoopLeavesThePluginDownUntilAReloadOrRestart() {
        var driver = SlotMachineDriver(crashLimit: 2, crashWindowSeconds: 60)
        var pid = driver.bringUp("v1").pids[0]
        for crash in 1...2 {
            driver.now += 1
            XCTAssertEqual(driver.exit(pid).restarts.count, 1, "crash \(crash) of 2 allowed restarts")
            pid = driver.startSpawns(driver.feed(.restartTimerFired(generation: 1, instance: 0))).pids[0]
            _ = driver.serve(pid)
        }
        driver.now += 1
        let third = driver.exit(pid)
        XCTAssertEqual(third.restarts.count, 0)
        XCTAssertTrue(third.opensUnavailable, "its socket answers 503 with the reason")
        XCTAssertEqual(driver.machine.state, .failed)
        XCTAssertTrue(driver.machine.error?.hasPrefix("crash loop: 3 crashes within 60 s (last: killed by SIGSEGV)") == true, "\(driver.machine.error ?? "")")
        // Unchanged, a reload retries it and says so once it serves.
        let retried = driver.scan("v1")
        XCTAssertTrue(retried.infos.first?.hasPrefix("retrying: /plugins/libgreeter.so failed before (crash loop: 3 crashes") == true, "\(retried)")
        XCTAssertEqual(retried.spawned, [0])
        let retriedPID = driver.startSpawns(retried).pids[0]
        let back = driver.serve(retriedPID)
        XCTAssertEqual(back.settled, [.retried])
        XCTAssertTrue(back.contains(.closeUnavailable))
        XCTAssertEqual(driver.machine.state, .running)
        XCTAssertEqual(driver.machine.crashTimes, [], "a fresh generation starts with a clean crash count")
        // `berth restart` (forced) starts a fresh generation of a running one.
        let restarted = driver.bringUp("v1", forced: true)
        XCTAssertEqual(restarted.actions.stopped, [retriedPID])
        XCTAssertEqual(driver.exit(retriedPID, .exited(0)).settled, [.updated])
        XCTAssertEqual(driver.machine.state, .running)
    }

    func testCrashesOutsideTheWindowDoNotAddUp() {
        var driver = SlotMachineDriver(crashLimit: 1, crashWindowSeconds: 10)
        var pid = driver.bringUp("v1").pids[0]
        for _ in 1...4 {
            driver.now += 11
            XCTAssertEqual(driver.exit(pid).restarts.count, 1)
            pid = driver.startSpawns(driver.feed(.restartTimerFired(generation: 1, instance: 0))).pids[0]
            _ = driver.serve(pid)
        }
        XCTAssertEqual(driver.machine.state, .running)
    }

    func testATimeoutRestartsAtOnceWithoutCountingTowardTheCrashLoop() {
        var driver = SlotMachineDriver(crashLimit: 1)
        var pid = driver.bringUp("v1").pids[0]
        for round in 1...3 {
            let exited = driver.exit(pid, .exited(124), breach: .timeout(route: "GET /slow", milliseconds: 250))
            XCTAssertEqual(exited.restarts.map(\.delay), [0], "round \(round)")
            XCTAssertTrue(exited.errors.first?.hasPrefix("worker \(pid) stopped: request GET /slow ran past its 0.25 s time limit (the client got 504); replacing it now (restart \(round))") == true, "\(exited.errors)")
            pid = driver.startSpawns(driver.feed(.restartTimerFired(generation: 1, instance: 0))).pids[0]
            _ = driver.serve(pid)
        }
        XCTAssertEqual(driver.machine.state, .running)
        XCTAssertEqual(driver.machine.timeouts, 3)
        XCTAssertEqual(driver.machine.crashTimes, [])
        XCTAssertEqual(driver.machine.lastLimit, "request_timeout")
    }

    func testARestartThatFailsToLoadCountsAsACrash() {
        var driver = SlotMachineDriver()
        let pid = driver.bringUp("v1").pids[0]
        _ = driver.exit(pid)
        let again = driver.startSpawns(driver.feed(.restartTimerFired(generation: 1, instance: 0))).pids[0]
        XCTAssertEqual(driver.feed(.workerFailed(pid: again, reason: "init failed")).errors,
                       ["worker \(again) could not load the plugin again: init failed"])
        XCTAssertEqual(driver.exit(again, .exited(1)).restarts.map(\.delay), [0.2])
        XCTAssertEqual(driver.machine.restarts, 2)
    }

    func testARestartDueForARetiredGenerationStartsNothing() {
        var driver = SlotMachineDriver()
        let up = driver.bringUp("v1", instances: 2)
        _ = driver.exit(up.pids[1])
        _ = driver.bringUp("v2", instances: 1)
        XCTAssertEqual(driver.feed(.restartTimerFired(generation: 1, instance: 1)), [])
    }
}
