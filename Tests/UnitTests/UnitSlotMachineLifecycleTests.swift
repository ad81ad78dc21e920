@testable import BerthSupervisor
import BerthChannel
import BerthPOSIX
import Glibc
import XCTest

/// The slot machine's load and drain deadlines, the name decision before
/// init, retrying a failed plugin and what exit 72 means, with no process.
final class UnitSlotMachineLifecycleTests: XCTestCase {
    func testALoadPastItsDeadlineFailsOnlyThatGenerationAndKillsTheWorker() {
        var driver = SlotMachineDriver()
        let started = driver.startSpawns(driver.scan("v1"))
        let actions = driver.feed(.loadDeadlinePassed(pid: started.pids[0], seconds: 30))
        XCTAssertTrue(actions.contains(.kill(pid: started.pids[0])), "\(actions)")
        XCTAssertEqual(driver.machine.state, .failed)
        XCTAssertTrue(driver.machine.error?.contains("worker 100 did not finish loading the plugin within 30 s (init_timeout_seconds)") == true,
                      driver.machine.error ?? "")
        XCTAssertTrue(driver.machine.error?.contains("raise init_timeout_seconds in /plugins/libgreeter.json") == true, driver.machine.error ?? "")
        guard case .failed(let reason)? = actions.settled.first else { return XCTFail("\(actions)") }
        XCTAssertTrue(reason.contains("init_timeout_seconds"), reason)
        XCTAssertEqual(driver.exit(started.pids[0], .killed(SIGKILL)), [], "its exit was expected")
    }

    func testALoadDeadlineForAWorkerThatLoadedIsIgnored() {
        var driver = SlotMachineDriver()
        let pid = driver.bringUp("v1").pids[0]
        XCTAssertEqual(driver.feed(.loadDeadlinePassed(pid: pid, seconds: 30)), [])
        XCTAssertEqual(driver.machine.state, .running)
    }

    func testAnUpdateThatHangsInInitLeavesTheOldVersionServing() {
        var driver = SlotMachineDriver()
        _ = driver.bringUp("v1")
        let started = driver.startSpawns(driver.scan("v2"))
        let actions = driver.feed(.loadDeadlinePassed(pid: started.pids[0], seconds: 1))
        XCTAssertTrue(actions.contains(.kill(pid: started.pids[0])))
        XCTAssertTrue(actions.errors.first?.hasPrefix("reload failed: ") == true, "\(actions)")
        XCTAssertEqual(driver.machine.state, .running)
    }

    func testAStoppingWorkerPastItsDrainDeadlineIsKilled() {
        var driver = SlotMachineDriver()
        let old = driver.bringUp("v1").pids[0]
        let update = driver.bringUp("v2")
        XCTAssertEqual(update.actions.stopped, [old])
        XCTAssertEqual(update.actions.settled, [], "waits for the old worker")
        let actions = driver.feed(.drainDeadlinePassed(pid: old, seconds: 12))
        XCTAssertTrue(actions.contains(.kill(pid: old)))
        XCTAssertTrue(actions.contains { if case .log(let line) = $0 { return line.level == .warn && line.message.contains("worker \(old) did not exit within 12 s") } else { return false } })
        XCTAssertEqual(driver.exit(old, .killed(SIGKILL)).settled, [.updated])
    }

    func testADrainDeadlineForAServingWorkerIsIgnored() {
        var driver = SlotMachineDriver()
        let pid = driver.bringUp("v1").pids[0]
        XCTAssertEqual(driver.feed(.drainDeadlinePassed(pid: pid, seconds: 12)), [])
    }

    func testAGrantedNameInitializesAndARefusedOneFailsBeforeInit() {
        var driver = SlotMachineDriver()
        let granted = driver.startSpawns(driver.scan("v1")).pids[0]
        XCTAssertEqual(driver.feed(.workerNamed(pid: granted, name: "greeter", problem: nil)), [.initialize(pid: granted)])
        XCTAssertEqual(driver.machine.declaredName, "greeter")

        var refused = SlotMachineDriver(file: "/plugins/libz.so")
        let pid = refused.startSpawns(refused.scan("v1")).pids[0]
        let actions = refused.feed(.workerNamed(pid: pid, name: "greeter", problem: "duplicate plugin name \"greeter\": ..."))
        XCTAssertFalse(actions.contains(.initialize(pid: pid)))
        XCTAssertEqual(actions.stopped, [pid])
        XCTAssertEqual(refused.machine.state, .failed)
        XCTAssertEqual(refused.machine.declaredName, "greeter", "status shows the name it declared")
        XCTAssertNil(refused.machine.name, "it owns no socket")
    }

    func testAFailedPluginIsRetriedByAReloadAndAFailedRetrySaysWhy() {
        var driver = SlotMachineDriver()
        let first = driver.startSpawns(driver.scan("v1")).pids[0]
        XCTAssertEqual(driver.feed(.workerFailed(pid: first, reason: "init failed: dependency is down")).settled,
                       [.failed(reason: "init failed: dependency is down")])
        _ = driver.exit(first, .exited(3))
        let again = driver.startSpawns(driver.scan("v1")).pids[0]
        XCTAssertEqual(driver.machine.state, .starting)
        XCTAssertEqual(driver.feed(.workerFailed(pid: again, reason: "init failed: dependency is still down")).settled,
                       [.failed(reason: "init failed: dependency is still down")])
        _ = driver.exit(again, .exited(3))
        let third = driver.startSpawns(driver.scan("v1")).pids[0]
        XCTAssertEqual(driver.serve(third).settled, [.retried])
        XCTAssertEqual(driver.scan("v1"), [.settled(.unchanged)], "a running plugin is not retried")
    }

    func testExit72WhileLoadingSaysTheChannelNotACrash() {
        var driver = SlotMachineDriver()
        let pid = driver.startSpawns(driver.scan("v1")).pids[0]
        _ = driver.exit(pid, .exited(WorkerExitCode.cannotReachHost))
        let error = driver.machine.error ?? ""
        XCTAssertTrue(error.contains("exited with code 72 while loading the plugin: it could not send to the host over its channel"), error)
        XCTAssertFalse(error.contains("crash in its entry or init function"), error)
        XCTAssertTrue(SlotMachine.loadExitExplained(.killed(SIGSEGV)).contains("crash in its entry or init function"))
    }
}
