import BerthChannel
import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

/// Worker processes: starting them, what they report, their exits, restarts.
extension Supervisor {
    func startWorkers(_ slot: PluginSlot, _ generation: Generation) {
        for instance in 0..<generation.settings.instances {
            startWorker(slot, generation, instance: instance)
        }
    }

    func startWorker(_ slot: PluginSlot, _ generation: Generation, instance: Int) {
        do {
            let worker = try WorkerHandle.spawn(configuration: configuration, file: slot.file, generation: generation, instance: instance)
            generation.workers.append(worker)
            workersByPID[worker.pid] = (slot, worker)
            try worker.channel.attach(to: loop) { [unowned self, unowned slot, unowned worker] in
                self.channelReadable(slot, worker)
            }
            watchLimits()
        } catch {
            generationFailed(slot, generation, "cannot start a worker for \(slot.file): \(error)")
        }
    }

    /// Reads and handles every whole message the worker has sent, without
    /// waiting for more: a message still arriving is kept for later.
    func channelReadable(_ slot: PluginSlot, _ worker: WorkerHandle) {
        while worker.channelOpen {
            let message: WorkerMessage
            do {
                switch try worker.channel.receive(waiting: false) {
                case nil:
                    return
                case .closed?:
                    return closeChannel(worker)
                case .message(let received, let passed)?:
                    passed?.close()
                    message = received
                }
            } catch {
                return channelBroke(slot, worker, "\(slot.file): worker \(worker.pid) sent what the host cannot read: \(error)")
            }
            switch message {
            case .loaded(let report):
                workerLoaded(slot, worker, report)
            case .timeout(let route, let milliseconds):
                // The watchdog answered 504 and is ending the worker; its exit
                // follows (reapChildren).
                worker.breach = .timeout(route: route, milliseconds: Int(milliseconds))
            case .tokensApplied:
                worker.tokensPending = false
                checkReload()
            case .failed(let reason):
                workerFailed(slot, worker, reason)
            }
        }
    }

    private func workerFailed(_ slot: PluginSlot, _ worker: WorkerHandle, _ reason: String) {
        if worker.generation.state == .loading {
            generationFailed(slot, worker.generation, reason)
        } else {
            // A restart that failed to load counts as a crash; the exit
            // that follows is handled by reapChildren.
            Log.error("worker \(worker.pid) could not load the plugin again: \(reason)", plugin: slot.name)
        }
    }

    /// A worker whose channel is of no more use: a loading plugin fails
    /// with the reason; a serving worker is killed and, like a crashed one,
    /// replaced.
    private func channelBroke(_ slot: PluginSlot, _ worker: WorkerHandle, _ reason: String) {
        closeChannel(worker)
        if worker.generation.state == .loading {
            generationFailed(slot, worker.generation, reason)
        } else {
            Log.error("\(reason); killing it so a fresh one starts", plugin: slot.name)
            ChildProcess.signal(worker.pid, SIGKILL)
        }
    }

    private func workerLoaded(_ slot: PluginSlot, _ worker: WorkerHandle, _ report: PluginReport) {
        let generation = worker.generation
        let name = report.name
        guard generation.state == .loading || generation.state == .serving else { return stop(worker) }
        if let owned = slot.name, owned != name {
            return generationFailed(slot, generation, "\(slot.file) now names itself \"\(name)\" instead of \"\(owned)\"; to rename a plugin, remove the file and add it under the new name")
        }
        if let owner = slots.first(where: { $0 !== slot && !$0.removed && ($0.name == name || $0.current?.name == name && $0.current?.state != .failed) }) {
            return generationFailed(slot, generation, "duplicate plugin name \"\(name)\": \(owner.file) already serves it; give each plugin a unique name")
        }
        let routes = report.routes.map(\.label)
        if let unknown = generation.settings.routeTimeouts.keys.sorted().first(where: { !routes.contains($0) }) {
            return generationFailed(slot, generation, "\(PluginSettings.path(forPlugin: slot.file)): route_timeouts names \"\(unknown)\", which plugin \(name) does not have; its routes are \(routes.joined(separator: ", "))")
        }
        let listener: FileDescriptor
        do {
            listener = try listeners.listener(for: name, at: configuration.socketPath(for: name))
        } catch {
            return generationFailed(slot, generation, "cannot create the socket for \(name): \(error)")
        }
        let settings = generation.settings
        let serve = ServeSettings(adminToken: token.bytes, clientLimits: settings.clientLimits, timeouts: settings.handlerTimeouts,
                                  scopedTokens: scopedTokens, allowedUIDs: settings.allowedUIDs)
        do {
            try worker.channel.send(.serve(serve), passing: listener)
        } catch {
            Log.error("cannot hand the socket to worker \(worker.pid): \(error)", plugin: name)
            return
        }
        slot.name = name
        generation.name = name
        generation.version = report.version
        generation.abi = report.abi
        generation.routes = report.routes.map {
            .init(method: $0.method.description, pattern: $0.pattern, isPublic: $0.isPublic, scope: $0.scope)
        }
        worker.phase = .serving
        stopUnavailable(slot)
        let restartNote = slot.restarts > 0 && generation === slot.current ? ", restart \(slot.restarts)" : ""
        Log.info("serving \(configuration.socketPath(for: name)) (version \(generation.version ?? "?"), generation \(generation.number), worker \(worker.pid)\(restartNote))", plugin: name)
        generationProgressed(slot, generation)
    }

    /// A generation whose every instance serves takes over from the one
    /// before it, which then drains.
    private func generationProgressed(_ slot: PluginSlot, _ generation: Generation) {
        guard generation.state == .loading, generation.allWorkersServing else { return }
        generation.state = .serving
        if generation === slot.candidate {
            let previous = slot.current
            slot.current = generation
            slot.candidate = nil
            slot.lastReloadError = nil
            if let previous { retire(slot, previous) }
            Log.info("now serving version \(generation.version ?? "?") (generation \(generation.number)); the previous generation is draining", plugin: slot.name)
        }
        checkReload()
    }

    func generationFailed(_ slot: PluginSlot, _ generation: Generation, _ reason: String) {
        guard generation.state != .failed else { return }
        let wasServing = generation.state == .serving
        generation.state = .failed
        generation.failure = reason
        for worker in generation.workers { stop(worker) }
        if generation === slot.candidate {
            slot.candidate = nil
            slot.lastReloadError = reason
            slot.retiring.append(generation)
            Log.error("reload failed: \(reason); version \(slot.current?.version ?? "?") keeps serving", plugin: slot.name)
        } else {
            Log.error("\(wasServing ? "plugin down" : "plugin not loaded"): \(reason)", plugin: slot.name)
            if slot.name != nil { startUnavailable(slot, reason) }
        }
        dropFinishedGenerations(slot)
        checkReload()
    }

    /// Moves a generation out of service: its workers drain and exit.
    func retire(_ slot: PluginSlot, _ generation: Generation) {
        if generation.state != .failed { generation.state = .retiring }
        for worker in generation.workers { stop(worker) }
        if slot.current === generation { slot.current = nil }
        if slot.candidate === generation { slot.candidate = nil }
        if !slot.retiring.contains(where: { $0 === generation }) { slot.retiring.append(generation) }
        dropFinishedGenerations(slot)
    }

    /// Asks a worker to finish its in-flight requests and exit. Closing the
    /// channel reaches a worker still loading, which does not read signals.
    func stop(_ worker: WorkerHandle) {
        guard worker.phase != .stopping else { return }
        worker.phase = .stopping
        ChildProcess.signal(worker.pid, SIGTERM)
        closeChannel(worker)
    }

    func closeChannel(_ worker: WorkerHandle) {
        guard worker.channelOpen else { return }
        worker.channelOpen = false
        worker.channel.close()
    }

    func dropFinishedGenerations(_ slot: PluginSlot) {
        slot.retiring.removeAll { $0.workers.isEmpty }
    }

    // MARK: Exits

    /// Reaps ended workers (call on SIGCHLD) and decides what follows.
    public func reapChildren() {
        for (pid, exit, cpuSeconds) in ChildProcess.reapAll() {
            guard let (slot, worker) = workersByPID.removeValue(forKey: pid) else { continue }
            let generation = worker.generation
            // SIGCHLD can be handled before the worker's last message (why
            // it failed to load) has been read: read what is left first.
            // Only what is there: a descendant holding the worker's end
            // open must not make the host wait.
            channelReadable(slot, worker)
            closeChannel(worker)
            generation.workers.removeAll { $0 === worker }
            slot.history.add(worker.stats.snapshot())
            if worker.breach == nil { worker.breach = cpuBreach(worker, exit, cpuSeconds: cpuSeconds) }
            workerExited(slot, worker, exit)
            dropFinishedGenerations(slot)
        }
        slots.removeAll { $0.removed && $0.allWorkers.isEmpty && activeReload == nil }
        checkReload()
        checkStopped()
    }

    private func workerExited(_ slot: PluginSlot, _ worker: WorkerHandle, _ exit: ChildProcess.Exit) {
        let generation = worker.generation
        let label = slot.name ?? slot.file
        var breach = worker.breach
        if breach == nil, exit == .exited(LimitBreach.timeoutExitCode) { breach = .timeout(route: nil, milliseconds: nil) }
        if case .timeout(_, let milliseconds) = breach {
            // The 504 never reached the worker's counters; it took about
            // the limit (unknown if the report was lost).
            slot.timeouts += 1
            slot.history.record(nanoseconds: UInt64(milliseconds ?? 0) * 1_000_000, failed: true)
        }
        if worker.phase == .stopping || shuttingDown || slot.removed { return }
        switch generation.state {
        case .loading where worker.phase == .loading:
            let why = breach.map { "was stopped while loading the plugin: \($0.description)" }
                ?? "\(exit) while loading the plugin (a crash in its entry or init function?)"
            generationFailed(slot, generation, "\(slot.file): the worker \(why)")
        case .loading, .serving:
            slot.lastExit = breach?.description ?? exit.description
            slot.lastLimit = breach?.setting
            slot.restarts += 1
            if let breach, breach.isTimeout {
                // Not a crash: the plugin is not failing as a whole, one
                // request was too slow. Its replacement starts at once and
                // the crash-loop count is left alone.
                Log.error("worker \(worker.pid) stopped: \(breach.description); replacing it now (restart \(slot.restarts)); other plugins are unaffected; \(breach.hint(settings: PluginSettings.path(forPlugin: slot.file)))", plugin: label)
                return scheduleRestart(slot, generation, instance: worker.instance, after: 0)
            }
            let what = breach.map { "stopped: \($0.description)" } ?? exit.description
            let now = Clock.wallSeconds()
            slot.crashTimes = slot.crashTimes.filter { now - $0 < configuration.crashWindowSeconds } + [now]
            if slot.crashTimes.count > configuration.crashLimit {
                let reason = "crash loop: \(slot.crashTimes.count) crashes within \(Int(configuration.crashWindowSeconds)) s (last: \(breach?.description ?? exit.description)); left down until its file changes or `berth restart \(label)`"
                return generationFailed(slot, generation, reason)
            }
            let delay = slot.policy.delayAfterCrash(uptime: worker.uptimeSeconds)
            let hint = breach.map { "; " + $0.hint(settings: PluginSettings.path(forPlugin: slot.file)) } ?? ""
            Log.error("worker \(worker.pid) \(what); restarting in \(delay) s (restart \(slot.restarts)); other plugins are unaffected\(hint)", plugin: label)
            scheduleRestart(slot, generation, instance: worker.instance, after: delay)
        case .retiring, .failed:
            break
        }
    }

    private func scheduleRestart(_ slot: PluginSlot, _ generation: Generation, instance: Int, after delay: Double) {
        var timer: EventLoop.TimerID = 0
        timer = loop.schedule(afterSeconds: delay) { [unowned self, unowned slot] in
            slot.restartTimers[timer] = nil
            guard !self.shuttingDown, generation.state == .serving || generation.state == .loading else { return }
            self.startWorker(slot, generation, instance: instance)
        }
        slot.restartTimers[timer] = instance
    }

    // MARK: While a plugin is down

    /// Answers every request on the plugin's socket with 503 and the reason,
    /// so clients get an error instead of waiting in the backlog.
    func startUnavailable(_ slot: PluginSlot, _ reason: String) {
        guard slot.unavailable == nil, let name = slot.name,
              let listener = try? listeners.listener(for: name, at: configuration.socketPath(for: name)) else { return }
        let server = LineServer(loop: loop, listener: listener, handler: UnavailableResponder(plugin: name, reason: reason), name: name)
        if (try? server.start()) != nil { slot.unavailable = server }
    }

    func stopUnavailable(_ slot: PluginSlot) {
        guard let server = slot.unavailable else { return }
        server.stopAccepting()
        server.closeAll()
        slot.unavailable = nil
    }
}

/// The host's answer on the socket of a plugin that is down.
final class UnavailableResponder: RequestHandler {
    private let message: String

    init(plugin: String, reason: String) {
        message = "plugin \(plugin) is down: \(reason). Fix it and run `berth reload`, or `berth restart \(plugin)`; `berth status` shows details"
    }

    func handle(_ request: Request, into output: inout [UInt8]) {
        ResponseWriter.appendError(&output, id: request.id, status: 503, code: "plugin_unavailable", message: message)
    }
}
