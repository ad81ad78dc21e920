import BerthChannel
import BerthPOSIX

/// A worker's exit: nothing (it was asked to stop), a failed load, or a
/// restart: at once after a timeout, with backoff after a crash, and never
/// again after a crash loop.
extension SlotMachine {
    mutating func workerExited(_ pid: Int32, _ exit: WorkerExit, _ actions: inout [SlotAction]) {
        guard let number = generationNumber(of: pid), let worker = worker(pid) else { return }
        update(number) { $0.workers.removeAll { $0.pid == pid } }
        if exit.breach?.isTimeout == true { timeouts += 1 }
        guard worker.phase != .stopping, lifecycle == .active, let record = generation(number) else { return }
        switch record.state {
        case .loading where worker.phase == .loading:
            let why = exit.breach.map { "was stopped while loading the plugin: \($0.description)" }
                ?? Self.loadExitExplained(exit.status)
            fail(number, "\(file): the worker \(why)", &actions)
        case .loading, .serving:
            restart(worker, of: number, after: exit, &actions)
        case .retiring, .failed:
            break
        }
    }

    /// Why a worker that exited while loading did: a status the worker
    /// uses to say what went wrong, or else a crash in the plugin's code.
    static func loadExitExplained(_ status: ChildProcess.Exit) -> String {
        if status == .exited(WorkerExitCode.cannotReachHost) {
            return "\(status) while loading the plugin: it could not send to the host over its channel (not a crash in the plugin; the worker's log line above says why); fix that, then `berth reload`"
        }
        return "\(status) while loading the plugin (a crash in its entry or init function?)"
    }

    private mutating func restart(_ worker: WorkerRecord, of number: Int, after exit: WorkerExit, _ actions: inout [SlotAction]) {
        let label = name ?? file
        let settingsPath = PluginSettings.path(forPlugin: file)
        lastExit = exit.breach?.description ?? exit.status.description
        lastLimit = exit.breach?.setting
        restarts += 1
        if let breach = exit.breach, breach.isTimeout {
            // Not a crash: the plugin is not failing as a whole, one
            // request was too slow. Its replacement starts at once and
            // the crash-loop count is left alone.
            actions.append(.log(LogLine(level: .error, message: "worker \(worker.pid) stopped: \(breach.description); replacing it now (restart \(restarts)); other plugins are unaffected; \(breach.hint(settings: settingsPath))", plugin: label)))
            return actions.append(.scheduleRestart(generation: number, instance: worker.instance, afterSeconds: 0))
        }
        let what = exit.breach.map { "stopped: \($0.description)" } ?? exit.status.description
        crashTimes = crashTimes.filter { exit.now - $0 < configuration.crashWindowSeconds } + [exit.now]
        if crashTimes.count > configuration.crashLimit {
            let reason = "crash loop: \(crashTimes.count) crashes within \(Int(configuration.crashWindowSeconds)) s (last: \(exit.breach?.description ?? exit.status.description)); left down until its file changes, `berth reload` or `berth restart \(label)`"
            return fail(number, reason, &actions)
        }
        let delay = policy.delayAfterCrash(uptime: exit.uptimeSeconds)
        let hint = exit.breach.map { "; " + $0.hint(settings: settingsPath) } ?? ""
        actions.append(.log(LogLine(level: .error, message: "worker \(worker.pid) \(what); restarting in \(delay) s (restart \(restarts)); other plugins are unaffected\(hint)", plugin: label)))
        actions.append(.scheduleRestart(generation: number, instance: worker.instance, afterSeconds: delay))
    }
}
