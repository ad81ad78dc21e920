@testable import BerthSupervisor
import BerthAuth
import BerthChannel
import BerthPOSIX
import BerthSupport
import Glibc
import XCTest

/// The Supervisor as executor of its slots' machines, without a process:
/// what it feeds back when an action cannot be carried out, and which
/// workers it no longer signals. Workers here are handles with a pid that
/// no process can have (above any pid_max), so a signal sent in error
/// reaches nobody; what the tests watch is the handle and the machine.
final class UnitSupervisorExecutorTests: XCTestCase {
    /// Above the kernel's largest pid_max (2^22): kill(2) gives ESRCH.
    private static let noProcess: Int32 = .max - 1

    private var supervisor: Supervisor!
    private var slot: PluginSlot!

    override func setUpWithError() throws {
        var configuration = Configuration()
        configuration.runDirectory = "/nonexistent/berth-unit"
        supervisor = Supervisor(loop: try EventLoop(), configuration: configuration, token: AuthToken(bytes: [1, 2, 3]))
        slot = PluginSlot(file: "/plugins/libgreeter.so", serial: 1, configuration: configuration)
        supervisor.slots.append(slot)
    }

    /// The machine with generation 1 loading and `pid` its loading worker.
    private func workerLoading(_ pid: Int32) {
        _ = slot.machine.handle(.scanned(.readable(number: 1, fingerprint: "v1", instances: 1), forced: false))
        _ = slot.machine.handle(.workerStarted(pid: pid, generation: 1, instance: 0))
        XCTAssertEqual(slot.machine.worker(pid)?.phase, .loading)
        XCTAssertNotNil(slot.machine.awaiting)
    }

    private func handle(_ pid: Int32) throws -> WorkerHandle {
        let (hostEnd, workerEnd) = try UnixSocket.seqpacketPair()
        workerEnd.close()
        return WorkerHandle(pid: pid, channel: HostChannelEnd(hostEnd, waits: false), stats: try SharedStats(name: "unit"),
                            generation: .failedPlaceholder(number: 1), instance: 0)
    }

    /// A serve action the host cannot carry out is fed back as a refusal:
    /// the generation fails (its worker is stopped) instead of the worker
    /// staying "loading" and the reload never settling.
    func testAServeThatCannotBeCarriedOutIsFedBackAsRefused() {
        workerLoading(Self.noProcess)
        // No handle and no loaded report for the worker: nothing to serve.
        supervisor.serve(slot, pid: Self.noProcess, generation: 1, name: "greeter")
        XCTAssertEqual(slot.machine.current?.state, .failed, "the serve was dropped without a word; the reload would hang")
        XCTAssertEqual(slot.machine.worker(Self.noProcess)?.phase, .stopping)
        XCTAssertTrue(slot.machine.error?.contains("worker \(Self.noProcess) was to be handed the socket of greeter") == true,
                      slot.machine.error ?? "no error")
        XCTAssertNil(slot.machine.awaiting, "the reload that started the worker has settled")
    }

    /// A reaped worker is never signalled again (its pid may be reused):
    /// stop only closes its channel.
    func testAReapedWorkerIsNotSignalled() throws {
        let worker = try handle(Self.noProcess)
        worker.reaped = true
        supervisor.stop(worker)
        XCTAssertFalse(worker.stopping, "stop signalled a reaped worker")
        XCTAssertFalse(worker.channel.isOpen)

        let live = try handle(Self.noProcess - 1)
        supervisor.stop(live)
        XCTAssertTrue(live.stopping)
        XCTAssertFalse(live.channel.isOpen, "stop closes the channel of a worker still loading")
    }
}
