import BerthPOSIX
import BerthSupport
import Glibc

/// Reaping ended workers and telling their slots how they ended.
extension Supervisor {
    /// Reaps ended workers (call on SIGCHLD).
    public func reapChildren() {
        for (pid, exit, cpuSeconds) in ChildProcess.reapAll() {
            guard let (slot, worker) = workersByPID.removeValue(forKey: pid) else { continue }
            // What the worker started (a helper, a fork) ends with it: it
            // would otherwise hold the plugin's socket, channel or memory.
            if ChildProcess.killGroup(pid) {
                Log.info("worker \(pid) left processes behind in its process group; killed them", plugin: slot.name ?? slot.file)
            }
            // Before its last messages are read: what they lead to (a stop,
            // a kill for a broken channel) must not signal a pid that may
            // already be another process's.
            worker.reaped = true
            // SIGCHLD can be handled before the worker's last message (why
            // it failed to load) has been read: read what is left first.
            // Only what is there: a descendant holding the worker's end
            // open must not make the host wait.
            channelReadable(slot, worker, budget: .atExit)
            closeChannel(worker)
            cancelDeadline(slot, pid)
            slot.workers[pid] = nil
            slot.history.add(worker.stats.snapshot())
            let breach = limitBreach(worker, exit, cpuSeconds: cpuSeconds)
            if case .timeout(_, let milliseconds) = breach {
                // The 504 never reached the worker's counters; it took about
                // the limit (unknown if the report was lost).
                slot.history.record(nanoseconds: UInt64(milliseconds ?? 0) * 1_000_000, failed: true)
            }
            feed(slot, .workerExited(pid: pid, WorkerExit(status: exit, breach: breach, uptimeSeconds: worker.uptimeSeconds,
                                                          now: Clock.wallSeconds())))
        }
        if activeReload == nil { slots.removeAll { $0.machine.isDrained } }
        checkStopped()
    }

    /// The limit the worker broke, if its exit says so: reported before it
    /// ended, its CPU time, or the watchdog's exit code.
    private func limitBreach(_ worker: WorkerHandle, _ exit: ChildProcess.Exit, cpuSeconds: Double) -> LimitBreach? {
        if worker.breach == nil { worker.breach = cpuBreach(worker, exit, cpuSeconds: cpuSeconds) }
        if worker.breach == nil, exit == .exited(LimitBreach.timeoutExitCode) { return .timeout(route: nil, milliseconds: nil) }
        return worker.breach
    }
}
