import BerthPOSIX
import Glibc

/// Resource limits the host enforces from outside the worker: resident
/// memory (`limits.memory_mb`, of the worker's whole process group) and
/// descriptors in use (`limits.open_files`), sampled from /proc, and telling a CPU limit's death from a crash. A
/// worker that breaks one is killed; its exit is then logged and restarted
/// like a crash, with the limit named (see LimitBreach).
extension Supervisor {
    /// How often workers with a memory or open-files limit are sampled.
    static let limitCheckSeconds = 0.1

    /// Starts sampling if some worker has a limit to watch and no check is
    /// pending; the check schedules itself again while such workers exist.
    func watchLimits() {
        guard limitCheck == nil, workersByPID.values.contains(where: { Self.isWatched($0.worker) }) else { return }
        limitCheck = loop.schedule(afterSeconds: Self.limitCheckSeconds) { [unowned self] in
            self.limitCheck = nil
            self.checkLimits()
            self.watchLimits()
        }
    }

    private static func isWatched(_ worker: WorkerHandle) -> Bool {
        let limits = worker.generation.settings.limits
        return !worker.stopping && worker.breach == nil && (limits.memoryMB != nil || limits.openFiles != nil)
    }

    private func checkLimits() {
        let watched = workersByPID.filter { Self.isWatched($0.value.worker) }
        // A worker leads its own process group (WorkerHandle.spawn), and what
        // it starts stays in it: memory is counted for the group as a whole.
        let memoryGroups = Set(watched.filter { $0.value.worker.generation.settings.limits.memoryMB != nil }.keys)
        let residentByGroup = ProcFS.residentBytes(ofGroups: memoryGroups)
        for (pid, entry) in watched {
            let limits = entry.worker.generation.settings.limits
            if let limit = limits.memoryMB, let resident = residentByGroup[pid], resident > limit << 20 {
                kill(entry.worker, for: .memory(residentBytes: resident, limitMB: limit))
            } else if let limit = limits.openFiles, let open = ProcFS.openDescriptorCount(pid), open >= limit {
                // All in use: the worker can neither accept a connection nor
                // open a file any more.
                kill(entry.worker, for: .openFiles(open: open, limit: limit))
            }
        }
    }

    private func kill(_ worker: WorkerHandle, for breach: LimitBreach) {
        worker.breach = breach
        ChildProcess.signal(worker.pid, SIGKILL)
    }

    /// A worker with a CPU limit that died of SIGXCPU, or of SIGKILL (the
    /// hard limit, a second later) after using it up, hit the limit.
    func cpuBreach(_ worker: WorkerHandle, _ exit: ChildProcess.Exit, cpuSeconds: Double) -> LimitBreach? {
        guard let limit = worker.generation.settings.limits.cpuSeconds else { return nil }
        switch exit {
        case .killed(SIGXCPU):
            return .cpu(usedSeconds: cpuSeconds, limitSeconds: limit)
        case .killed(SIGKILL) where cpuSeconds >= Double(limit):
            return .cpu(usedSeconds: cpuSeconds, limitSeconds: limit)
        default:
            return nil
        }
    }
}
