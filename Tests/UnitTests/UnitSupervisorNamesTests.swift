@testable import BerthSupervisor
import BerthAuth
import BerthChannel
import BerthPOSIX
import BerthSupport
import Glibc
import XCTest

/// The rule for two files that declare the same plugin name, without a
/// process: the file that sorts first gets it whatever order the workers
/// report in, and a worker waits only while a file that sorts before it has
/// not said its name. Workers are handles with pids no process can have;
/// their channel's other end is kept to see whether `initialize` was sent.
final class UnitSupervisorNamesTests: XCTestCase {
    private static let pidA: Int32 = .max - 1
    private static let pidB: Int32 = .max - 2

    private var supervisor: Supervisor!
    private var workerEnds: [Int32: WorkerChannelEnd] = [:]

    override func setUpWithError() throws {
        var configuration = Configuration()
        configuration.runDirectory = "/nonexistent/berth-unit"
        supervisor = Supervisor(loop: try EventLoop(), configuration: configuration, token: AuthToken(bytes: [1, 2, 3]))
    }

    /// A slot for `file` with one worker loading.
    private func loadingSlot(_ file: String, serial: Int, pid: Int32) throws -> (PluginSlot, WorkerHandle) {
        let slot = PluginSlot(file: file, serial: serial, configuration: supervisor.configuration)
        supervisor.slots.append(slot)
        _ = slot.machine.handle(.scanned(.readable(number: 1, fingerprint: "v1", instances: 1), forced: false))
        _ = slot.machine.handle(.workerStarted(pid: pid, generation: 1, instance: 0))
        let (hostEnd, workerEnd) = try UnixSocket.seqpacketPair()
        workerEnds[pid] = WorkerChannelEnd(workerEnd, waits: false)
        let worker = WorkerHandle(pid: pid, channel: HostChannelEnd(hostEnd, waits: false), stats: try SharedStats(name: "unit"),
                                  generation: .failedPlaceholder(number: 1), instance: 0)
        slot.workers[pid] = worker
        supervisor.workersByPID[pid] = (slot, worker)
        return (slot, worker)
    }

    private func wasInitialized(_ pid: Int32) throws -> Bool {
        guard case .message(.initialize, _)? = try workerEnds[pid]?.receive(waiting: false) else { return false }
        return true
    }

    func testTheFileThatSortsFirstGetsTheNameEvenWhenItReportsLast() throws {
        let (slotA, workerA) = try loadingSlot("/plugins/liba.so", serial: 1, pid: Self.pidA)
        let (slotB, workerB) = try loadingSlot("/plugins/libb.so", serial: 2, pid: Self.pidB)
        supervisor.workerNamed(slotB, workerB, "twin")
        XCTAssertFalse(workerB.nameDecided, "liba.so sorts first and has not said its name: libb.so waits")
        XCTAssertFalse(try wasInitialized(Self.pidB))

        supervisor.workerNamed(slotA, workerA, "twin")
        XCTAssertTrue(try wasInitialized(Self.pidA))
        XCTAssertEqual(slotA.machine.state, .starting)
        XCTAssertFalse(try wasInitialized(Self.pidB), "the refused duplicate's init must not run")
        XCTAssertEqual(slotB.machine.state, .failed)
        XCTAssertEqual(slotB.machine.error, "duplicate plugin name \"twin\": /plugins/liba.so also declares it and its file name sorts first, so /plugins/libb.so is not loaded (its init did not run); give each plugin a unique name")
        XCTAssertEqual(slotB.name ?? slotB.machine.declaredName, "twin")
    }

    func testAWorkerWaitsOnlyUntilTheFileBeforeItIsGone() throws {
        let (slotA, workerA) = try loadingSlot("/plugins/liba.so", serial: 1, pid: Self.pidA)
        let (slotB, workerB) = try loadingSlot("/plugins/libb.so", serial: 2, pid: Self.pidB)
        supervisor.workerNamed(slotB, workerB, "other")
        XCTAssertFalse(workerB.nameDecided, "it cannot know yet what liba.so will be called")
        // liba.so's worker ends before it says its name (a bad library).
        workerA.reaped = true
        slotA.workers[Self.pidA] = nil
        supervisor.workersByPID[Self.pidA] = nil
        supervisor.decideNames()
        XCTAssertTrue(try wasInitialized(Self.pidB))
        XCTAssertEqual(slotB.machine.state, .starting)
    }

    func testANameAFileAlreadyHasStaysWithIt() throws {
        let (slotB, _) = try loadingSlot("/plugins/libb.so", serial: 2, pid: Self.pidB)
        slotB.machine.name = "twin"
        let (slotA, workerA) = try loadingSlot("/plugins/liba.so", serial: 1, pid: Self.pidA)
        supervisor.workerNamed(slotA, workerA, "twin")
        XCTAssertFalse(try wasInitialized(Self.pidA))
        XCTAssertEqual(slotA.machine.state, .failed)
        XCTAssertTrue(slotA.machine.error?.hasPrefix("duplicate plugin name \"twin\": /plugins/libb.so already has it") == true,
                      slotA.machine.error ?? "")
    }
}
