import BerthPOSIX
import Glibc

/// The timers behind a worker's two deadlines (see SlotMachine+Deadlines
/// for what passing one means): loading within init_timeout_seconds, and
/// exiting within drain_seconds plus `drainGraceSeconds` of a stop. One
/// timer per worker at a time: a new deadline replaces the old one.
extension Supervisor {
    /// After drain_seconds the worker closes its connections itself; this
    /// is the time it gets to do that and exit before the host kills it.
    static let drainGraceSeconds = 2.0

    func startLoadDeadline(_ slot: PluginSlot, _ worker: WorkerHandle) {
        let seconds = worker.generation.settings.initTimeoutSeconds
        startDeadline(slot, worker.pid, after: seconds) { .loadDeadlinePassed(pid: worker.pid, seconds: seconds) }
    }

    func startDrainDeadline(_ slot: PluginSlot, _ worker: WorkerHandle) {
        let seconds = worker.generation.settings.drainSeconds + Self.drainGraceSeconds
        startDeadline(slot, worker.pid, after: seconds) { .drainDeadlinePassed(pid: worker.pid, seconds: seconds) }
    }

    /// The worker was reaped: whatever it was held to no longer matters.
    func cancelDeadline(_ slot: PluginSlot, _ pid: pid_t) {
        if let timer = slot.deadlines.removeValue(forKey: pid) { loop.cancel(timer) }
    }

    private func startDeadline(_ slot: PluginSlot, _ pid: pid_t, after seconds: Double, _ event: @escaping () -> SlotEvent) {
        cancelDeadline(slot, pid)
        // Weak: a removed slot can drain and be dropped before it fires.
        slot.deadlines[pid] = loop.schedule(afterSeconds: seconds) { [unowned self, weak slot] in
            guard let slot else { return }
            slot.deadlines[pid] = nil
            self.feed(slot, event())
        }
    }
}
