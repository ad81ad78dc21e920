import BerthChannel
import BerthPOSIX
import Glibc

/// Which file gets a plugin name two files declare. A worker reports its
/// plugin's name before init (`named`) and calls init only once the host
/// grants it (`initialize`), so a refused duplicate's init never runs.
///
/// The rule (docs/operating.md), the same whatever order workers report in:
/// - a name a file already serves (or served) stays with that file;
/// - otherwise, of the files that declare it, the one whose file name
///   sorts first (byte order) gets it: a worker waits while a file that
///   sorts before it is still loading without having said its name (at
///   most that file's init_timeout_seconds);
/// - the other files are refused with a message naming both files.
extension Supervisor {
    func workerNamed(_ slot: PluginSlot, _ worker: WorkerHandle, _ name: String) {
        guard worker.declaredName == nil else { return }
        worker.declaredName = name
        decideNames()
    }

    /// Decides every name that waits and can be decided now. Runs after
    /// each report of a name and after each reap or stop (a file that
    /// sorted first may have gone).
    func decideNames() {
        guard !decidingNames, workersByPID.values.contains(where: { Self.awaitsDecision($0.worker) }) else { return }
        decidingNames = true
        defer { decidingNames = false }
        var decidedOne = true
        while decidedOne {
            decidedOne = false
            for slot in slots.sorted(by: { Self.sortsFirst($0.file, $1.file) }) where !slot.removed {
                for worker in slot.workers.values.sorted(by: { $0.pid < $1.pid }) where Self.awaitsDecision(worker) {
                    guard let name = worker.declaredName, let problem = nameDecision(slot, name) else { continue }
                    worker.nameDecided = true
                    decidedOne = true
                    feed(slot, .workerNamed(pid: worker.pid, name: name, problem: problem.refusal))
                }
            }
        }
    }

    private enum NameDecision {
        case grant
        case refuse(String)
        var refusal: String? {
            if case .refuse(let reason) = self { return reason }
            return nil
        }
    }

    /// nil: wait (a file that sorts first has not said its name yet).
    private func nameDecision(_ slot: PluginSlot, _ name: String) -> NameDecision? {
        let others = slots.filter { $0 !== slot && !$0.removed }
        if let owner = others.first(where: { $0.name == name }) {
            return .refuse("duplicate plugin name \"\(name)\": \(owner.file) already has it, so \(slot.file) is not loaded (its init did not run); give each plugin a unique name")
        }
        for other in others {
            for worker in other.workers.values where Self.isLive(worker) && worker.declaredName == name {
                let otherSortsFirst = Self.sortsFirst(other.file, slot.file)
                if otherSortsFirst || worker.nameDecided {
                    let why = otherSortsFirst ? "its file name sorts first" : "was granted it before this file was loaded"
                    return .refuse("duplicate plugin name \"\(name)\": \(other.file) also declares it and \(why), so \(slot.file) is not loaded (its init did not run); give each plugin a unique name")
                }
            }
        }
        let undeclaredBefore = others.contains { other in
            other.name == nil && Self.sortsFirst(other.file, slot.file)
                && other.workers.values.contains { Self.isLive($0) && $0.declaredName == nil }
        }
        return undeclaredBefore ? nil : .grant
    }

    private static func isLive(_ worker: WorkerHandle) -> Bool { !worker.reaped && !worker.stopping }

    private static func awaitsDecision(_ worker: WorkerHandle) -> Bool {
        isLive(worker) && worker.declaredName != nil && !worker.nameDecided
    }

    static func sortsFirst(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The `initialize` action: the worker calls init now, and its load
    /// deadline starts again (the wait for the name is not init's time).
    func initialize(_ slot: PluginSlot, _ pid: pid_t) {
        guard let worker = slot.workers[pid], !worker.reaped, worker.channel.isOpen else { return }
        startLoadDeadline(slot, worker)
        do {
            try worker.channel.send(.initialize)
        } catch {
            // Its exit follows and is told as a failed load.
            stop(worker)
        }
    }
}
