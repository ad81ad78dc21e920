@testable import BerthSupervisor
import BerthPOSIX
import Glibc
import XCTest

/// The slot machine's reload transitions, with no process: add, unchanged,
/// update, broken update, removal, instances up and down, tokens, shutdown.
/// (Crashes, timeouts and restarts: UnitSlotMachineExitTests.)
final class UnitSlotMachineTests: XCTestCase {
    func testStatusPrintsTheSameStateNamesAsBefore() {
        XCTAssertEqual(SlotState.allCases.map(\.rawValue), ["starting", "running", "reloading", "restarting", "failed", "stopping", "removed"])
    }

    func testAFileSeenFirstStartsEveryInstanceAndIsAddedOnceAllServe() {
        var driver = SlotMachineDriver()
        let actions = driver.scan("v1", instances: 2)
        XCTAssertEqual(actions, [.spawn(generation: 1, instance: 0), .spawn(generation: 1, instance: 1)])
        XCTAssertEqual(driver.machine.state, .starting)
        let started = driver.startSpawns(actions)
        XCTAssertEqual(started.actions, [])
        XCTAssertEqual(driver.feed(.workerLoaded(pid: 100, name: "greeter", problem: nil)), [.serve(pid: 100, generation: 1, name: "greeter")])
        let first = driver.feed(.workerServing(pid: 100, name: "greeter", version: "1.0"))
        XCTAssertEqual(first.first, .closeUnavailable)
        XCTAssertEqual(first.infos, ["serving /run/berth/greeter.sock (version 1.0, generation 1, worker 100)"])
        XCTAssertEqual(first.settled, [], "one instance of two serves: not settled yet")
        XCTAssertEqual(driver.machine.state, .starting)
        XCTAssertEqual(driver.serve(101).settled, [.added])
        XCTAssertEqual(driver.machine.state, .running)
        XCTAssertEqual(driver.machine.name, "greeter")
    }

    func testASecondLoadedFromAServingWorkerIsIgnored() {
        var driver = SlotMachineDriver()
        let pid = driver.bringUp("v1").pids[0]
        let actions = driver.feed(.workerLoaded(pid: pid, name: "greeter", problem: nil))
        XCTAssertFalse(actions.contains { if case .serve = $0 { return true } else { return false } }, "\(actions)")
        XCTAssertEqual(actions.count, 1, "only a warning: \(actions)")
        XCTAssertEqual(driver.machine.state, .running)
    }

    func testAnUnchangedFileKeepsItsWorkersAndSettlesAtOnce() {
        var driver = SlotMachineDriver()
        _ = driver.bringUp("v1")
        let actions = driver.scan("v1")
        XCTAssertEqual(actions, [.settled(.unchanged)])
        XCTAssertEqual(driver.machine.generationsMade, 1, "an unchanged file uses no generation number")
        XCTAssertEqual(driver.machine.current?.workers.map(\.pid), [100])
    }

    func testAFileThatCannotBeReadOnFirstSightFailsAndShowsWhy() {
        var driver = SlotMachineDriver()
        let actions = driver.feed(.scanned(.unreadable(reason: "cannot load x: bad settings"), forced: false))
        XCTAssertEqual(actions, [.log(LogLine(level: .error, message: "plugin not loaded: cannot load x: bad settings", plugin: nil)),
                                 .settled(.failed(reason: "cannot load x: bad settings"))])
        XCTAssertEqual(driver.machine.state, .failed)
        XCTAssertEqual(driver.machine.error, "cannot load x: bad settings")
        XCTAssertEqual(driver.machine.current?.number, 1)
        // Fixed: it is added (it never served), replacing the placeholder.
        XCTAssertEqual(driver.bringUp("v1").actions.settled, [.added])
        XCTAssertEqual(driver.machine.state, .running)
        XCTAssertEqual(driver.machine.current?.number, 2)
    }

    func testAnUnreadableUpdateKeepsTheRunningVersion() {
        var driver = SlotMachineDriver()
        _ = driver.bringUp("v1")
        let actions = driver.feed(.scanned(.unreadable(reason: "cannot load x: truncated"), forced: false))
        XCTAssertEqual(actions.settled, [.notReloaded(reason: "cannot load x: truncated")])
        XCTAssertEqual(actions.errors, ["reload failed: cannot load x: truncated; the running version keeps serving"])
        XCTAssertEqual(driver.machine.state, .running)
        XCTAssertEqual(driver.machine.lastReloadError, "cannot load x: truncated")
        // The folder holds what runs again: no update pending any more.
        _ = driver.scan("v1")
        XCTAssertNil(driver.machine.lastReloadError)
    }

    func testAnUpdateServesBesideTheOldVersionThenRetiresIt() {
        var driver = SlotMachineDriver()
        _ = driver.bringUp("v1")
        let scanned = driver.scan("v2")
        XCTAssertEqual(scanned, [.spawn(generation: 2, instance: 0)])
        XCTAssertEqual(driver.machine.state, .reloading)
        let started = driver.startSpawns(scanned)
        let served = driver.serve(started.pids[0], version: "2.0")
        XCTAssertEqual(served.stopped, [100], "the old worker drains once the new one serves")
        XCTAssertEqual(served.infos.last, "now serving version 2.0 (generation 2); the previous generation is draining")
        XCTAssertEqual(served.settled, [], "settled once the old generation has drained")
        XCTAssertEqual(driver.machine.state, .running)
        let exited = driver.exit(100, .exited(0))
        XCTAssertEqual(exited, [.settled(.updated)], "a drained worker's exit is no crash")
        XCTAssertTrue(driver.machine.retiring.isEmpty)
    }

    func testABrokenNewVersionKeepsTheOldOneServing() {
        var driver = SlotMachineDriver()
        _ = driver.bringUp("v1")
        let started = driver.startSpawns(driver.scan("v2"))
        let failed = driver.feed(.workerFailed(pid: started.pids[0], reason: "init failed: no database"))
        XCTAssertEqual(failed.stopped, started.pids)
        XCTAssertEqual(failed.errors, ["reload failed: init failed: no database; version 1.0 keeps serving"])
        XCTAssertFalse(failed.opensUnavailable, "the old version still answers")
        XCTAssertEqual(driver.machine.state, .running)
        XCTAssertEqual(driver.machine.lastReloadError, "init failed: no database")
        XCTAssertEqual(driver.exit(started.pids[0], .exited(1)), [.settled(.failed(reason: "init failed: no database"))])
        XCTAssertEqual(driver.machine.current?.number, 1)
        XCTAssertEqual(driver.machine.current?.workers.map(\.pid), [100])
    }

    func testANewVersionThatRenamesItselfIsRefused() {
        var driver = SlotMachineDriver()
        _ = driver.bringUp("v1")
        let started = driver.startSpawns(driver.scan("v2"))
        let loaded = driver.feed(.workerLoaded(pid: started.pids[0], name: "other", problem: nil))
        XCTAssertEqual(loaded.stopped, started.pids)
        XCTAssertTrue(loaded.errors.first?.contains("now names itself \"other\" instead of \"greeter\"") == true, "\(loaded)")
        XCTAssertEqual(driver.machine.name, "greeter")
    }

    func testAProblemFoundAcrossSlotsFailsTheGeneration() {
        var driver = SlotMachineDriver()
        let started = driver.startSpawns(driver.scan("v1"))
        let loaded = driver.feed(.workerLoaded(pid: started.pids[0], name: "greeter", problem: "duplicate plugin name \"greeter\""))
        XCTAssertEqual(loaded.errors, ["plugin not loaded: duplicate plugin name \"greeter\""])
        XCTAssertFalse(loaded.opensUnavailable, "a plugin that never served has no socket to answer on")
        XCTAssertEqual(loaded.settled, [.failed(reason: "duplicate plugin name \"greeter\"")], "a failed first version has nothing to drain")
        XCTAssertEqual(driver.exit(started.pids[0], .exited(0)), [])
        XCTAssertNil(driver.machine.name)
    }

    func testASocketThatCannotBeCreatedFailsTheGeneration() {
        var driver = SlotMachineDriver()
        let started = driver.startSpawns(driver.scan("v1"))
        _ = driver.feed(.workerLoaded(pid: started.pids[0], name: "greeter", problem: nil))
        let refused = driver.feed(.serveRefused(pid: started.pids[0], reason: "cannot create the socket for greeter: EACCES"))
        XCTAssertEqual(refused.stopped, started.pids)
        XCTAssertEqual(driver.machine.state, .failed)
    }

    func testAWorkerThatCannotBeStartedFailsTheGenerationAndLaterInstancesAreStopped() {
        var driver = SlotMachineDriver()
        _ = driver.scan("v1", instances: 2)
        let failed = driver.feed(.spawnFailed(generation: 1, error: "EAGAIN"))
        XCTAssertEqual(failed.errors, ["plugin not loaded: cannot start a worker for /plugins/libgreeter.so: EAGAIN"])
        XCTAssertEqual(failed.settled, [.failed(reason: "cannot start a worker for /plugins/libgreeter.so: EAGAIN")])
        XCTAssertEqual(driver.feed(.workerStarted(pid: 7, generation: 1, instance: 1)), [.stop(pid: 7)])
    }

    func testInstancesGoUpAndDown() {
        var driver = SlotMachineDriver()
        let two = driver.bringUp("instances=2", instances: 2)
        XCTAssertEqual(two.actions.settled, [.added])
        let three = driver.bringUp("instances=3", instances: 3, version: "1.0")
        XCTAssertEqual(three.actions.spawned, [0, 1, 2])
        XCTAssertEqual(three.actions.stopped, two.pids, "the two old workers drain once all three new ones serve")
        for pid in two.pids { _ = driver.exit(pid, .exited(0)) }
        XCTAssertEqual(driver.machine.current?.workers.map(\.pid), three.pids)
        XCTAssertEqual(driver.machine.state, .running)
        let one = driver.bringUp("instances=1", instances: 1)
        XCTAssertEqual(one.actions.spawned, [0])
        XCTAssertEqual(one.actions.stopped, three.pids)
        var settled: [ReloadOutcome] = []
        for pid in three.pids { settled += driver.exit(pid, .exited(0)).settled }
        XCTAssertEqual(settled, [.updated])
        XCTAssertEqual(driver.machine.current?.workers.map(\.pid), one.pids)
        XCTAssertEqual(driver.machine.current?.instances, 1)
    }

    func testARemovedFileDrainsThenSettles() {
        var driver = SlotMachineDriver()
        let up = driver.bringUp("v1", instances: 2)
        let removed = driver.feed(.removed)
        XCTAssertEqual(removed.stopped, up.pids)
        XCTAssertTrue(removed.contains(.closeUnavailable))
        XCTAssertTrue(removed.contains(.removeSocket(name: "greeter")))
        XCTAssertEqual(removed.infos, ["removed: /plugins/libgreeter.so; its workers finish in-flight requests and exit"])
        XCTAssertEqual(driver.machine.state, .removed)
        XCTAssertFalse(driver.machine.isDrained)
        XCTAssertEqual(driver.exit(up.pids[0], .exited(0)), [])
        XCTAssertEqual(driver.exit(up.pids[1], .killed(SIGKILL)), [.settled(.removed)], "no restart for a removed file's worker")
        XCTAssertTrue(driver.machine.isDrained)
        XCTAssertEqual(driver.scan("v1"), [], "a removed slot takes no more scans")
    }

    func testAReloadWaitsUntilServingWorkersHaveAppliedNewTokens() {
        var driver = SlotMachineDriver()
        let up = driver.bringUp("v1", instances: 2)
        XCTAssertEqual(driver.feed(.tokensChanged), up.pids.map { .sendTokens(pid: $0) })
        XCTAssertEqual(driver.scan("v1"), [], "unchanged, but the tokens are not applied yet")
        XCTAssertEqual(driver.feed(.tokensApplied(pid: up.pids[0])), [])
        let undeliverable = driver.feed(.tokensUndeliverable(pid: up.pids[1], error: "EPIPE"))
        XCTAssertTrue(undeliverable.contains(.kill(pid: up.pids[1])))
        XCTAssertEqual(undeliverable.settled, [.unchanged], "a worker that cannot be told is killed, not waited for")
    }

    func testSIGTERMDuringAReloadStopsBothVersionsAndNeverSettles() {
        var driver = SlotMachineDriver()
        let old = driver.bringUp("v1")
        let new = driver.startSpawns(driver.scan("v2"))
        let stopping = driver.feed(.shutdown)
        XCTAssertEqual(stopping.first, .cancelRestarts)
        XCTAssertEqual(Set(stopping.stopped), Set(old.pids + new.pids))
        XCTAssertEqual(driver.machine.state, .stopping)
        XCTAssertEqual(driver.feed(.workerServing(pid: new.pids[0], name: "greeter", version: "2.0")).settled, [])
        XCTAssertEqual(driver.exit(old.pids[0], .exited(0)), [])
        XCTAssertEqual(driver.exit(new.pids[0], .killed(SIGTERM)), [], "no restart and no settlement while the host stops")
        XCTAssertEqual(driver.feed(.restartTimerFired(generation: 1, instance: 0)), [])
    }

    func testSIGTERMWhileTheNewVersionInitializes() {
        var driver = SlotMachineDriver()
        let started = driver.startSpawns(driver.scan("v1"))
        XCTAssertEqual(driver.feed(.shutdown).stopped, started.pids)
        XCTAssertEqual(driver.feed(.workerLoaded(pid: started.pids[0], name: "greeter", problem: nil)), [],
                       "a worker told to stop is not handed the socket")
        XCTAssertEqual(driver.exit(started.pids[0], .exited(0)), [])
        XCTAssertEqual(driver.machine.state, .stopping)
        XCTAssertTrue(driver.machine.workers.isEmpty)
    }
}
