import BerthChannel
import BerthPOSIX
import BerthSupport
import Glibc

/// The executor: feeds an event to a slot's machine and carries out the
/// actions it returns. An action whose result the machine must know (a
/// spawned pid, a refused socket) feeds it back as a new event.
extension Supervisor {
    func feed(_ slot: PluginSlot, _ event: SlotEvent) {
        executionDepth += 1
        let actions = slot.machine.handle(event)
        // Generations the machine let go of are closed (their library copy
        // with them); it lets go only once their workers have exited.
        slot.generations = slot.generations.filter { slot.machine.generation($0.key) != nil }
        for action in actions { execute(action, slot) }
        executionDepth -= 1
        // A worker stopped or failed may have been what another's name waited for.
        if executionDepth == 0 { decideNames() }
        endReloadIfSettled()
    }

    private func execute(_ action: SlotAction, _ slot: PluginSlot) {
        switch action {
        case .spawn(let generation, let instance):
            // An action list may hold a spawn after an action that failed its
            // generation (a worker that could not be started): start nothing
            // for a generation that no longer loads or serves.
            guard slot.machine.generation(generation)?.isLive == true else { return }
            spawn(slot, generation, instance: instance)
        case .serve(let pid, let generation, let name):
            serve(slot, pid: pid, generation: generation, name: name)
        case .initialize(let pid):
            initialize(slot, pid)
        case .stop(let pid):
            guard let worker = slot.workers[pid] else { return }
            let stopsNow = !worker.stopping && !worker.reaped
            stop(worker)
            if stopsNow { startDrainDeadline(slot, worker) }
        case .kill(let pid):
            // Only a worker not yet reaped: a reaped pid may be reused.
            if let worker = slot.workers[pid], !worker.reaped { ChildProcess.signal(pid, SIGKILL) }
        case .sendTokens(let pid):
            sendTokens(slot, pid)
        case .openUnavailable(let reason):
            startUnavailable(slot, reason)
        case .closeUnavailable:
            stopUnavailable(slot)
        case .removeSocket(let name):
            listeners.remove(name)
        case .scheduleRestart(let generation, let instance, let delay):
            scheduleRestart(slot, generation, instance: instance, after: delay)
        case .cancelRestarts:
            for timer in slot.restartTimers.keys { loop.cancel(timer) }
            slot.restartTimers.removeAll()
        case .log(let line):
            switch line.level {
            case .info: Log.info(line.message, plugin: line.plugin)
            case .warn: Log.warn(line.message, plugin: line.plugin)
            case .error: Log.error(line.message, plugin: line.plugin)
            }
        case .settled(let outcome):
            let current = slot.machine.current
            activeReload?.settled(slot: slot.serial, outcome,
                                  servingVersion: current?.state == .serving ? (current?.version ?? "?") : nil)
        }
    }

    private func scheduleRestart(_ slot: PluginSlot, _ generation: Int, instance: Int, after delay: Double) {
        var timer: EventLoop.TimerID = 0
        // Weak: a removed slot can drain and be dropped before it fires.
        timer = loop.schedule(afterSeconds: delay) { [unowned self, weak slot] in
            guard let slot else { return }
            slot.restartTimers[timer] = nil
            self.feed(slot, .restartTimerFired(generation: generation, instance: instance))
        }
        slot.restartTimers[timer] = instance
    }

    private func sendTokens(_ slot: PluginSlot, _ pid: pid_t) {
        // A closed channel: the worker is going; its exit ends the wait.
        guard let worker = slot.workers[pid], worker.channel.isOpen else { return }
        do {
            try worker.channel.send(tokensMessage())
        } catch {
            feed(slot, .tokensUndeliverable(pid: pid, error: "\(error)"))
        }
    }
}
