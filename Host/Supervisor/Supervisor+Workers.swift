import BerthChannel
import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

/// Worker processes: starting them, what they report, handing them the
/// socket, stopping them, their exits. What follows from each is the slot
/// machine's decision.
extension Supervisor {
    func spawn(_ slot: PluginSlot, _ number: Int, instance: Int) {
        guard let generation = slot.generations[number] else { return }
        let worker: WorkerHandle
        do {
            worker = try WorkerHandle.spawn(configuration: configuration, file: slot.file, generation: generation, instance: instance)
        } catch {
            return feed(slot, .spawnFailed(generation: number, error: "\(error)"))
        }
        slot.workers[worker.pid] = worker
        workersByPID[worker.pid] = (slot, worker)
        startLoadDeadline(slot, worker)
        // Attached before the machine hears of it: its answer may be to stop
        // the worker, which closes the channel, and a channel attached after
        // that would have epoll watch a closed (perhaps reused) number.
        let attached: Error?
        do {
            try worker.channel.attach(to: loop) { [unowned self, unowned slot, unowned worker] in
                self.channelReadable(slot, worker)
            }
            attached = nil
        } catch {
            attached = error
        }
        feed(slot, .workerStarted(pid: worker.pid, generation: number, instance: instance))
        if let attached {
            // The worker cannot be heard: fail the generation (which stops it).
            return feed(slot, .spawnFailed(generation: number, error: "cannot watch worker \(worker.pid)'s channel: \(attached)"))
        }
        watchLimits()
    }

    /// Turns each whole message the worker has sent into an event for its
    /// slot, without waiting for more: a message still arriving is kept.
    /// Reads at most `budget`; the loop calls again for the rest.
    func channelReadable(_ slot: PluginSlot, _ worker: WorkerHandle, budget: ChannelReadBudget = .perWakeup) {
        var budget = budget
        while worker.channel.isOpen {
            let message: WorkerMessage
            do {
                switch try worker.channel.receive(waiting: false, within: &budget) {
                case nil:
                    return
                case .closed?:
                    return closeChannel(worker)
                case .message(let received, let passed)?:
                    passed?.close()
                    message = received
                }
            } catch {
                return channelBroke(slot, worker, "worker \(worker.pid) of plugin \(slot.name ?? slot.file) sent what the host cannot read: \(error); the worker's channel (fd 3) is the host's: a plugin must not write to it")
            }
            switch message {
            case .named(let name):
                workerNamed(slot, worker, name)
            case .loaded(let report):
                workerLoaded(slot, worker, report)
            case .timeout(let route, let milliseconds):
                // The watchdog answered 504 and is ending the worker; its exit
                // follows (reapChildren).
                worker.breach = .timeout(route: route, milliseconds: Int(milliseconds))
            case .tokensApplied:
                feed(slot, .tokensApplied(pid: worker.pid))
            case .failed(let reason):
                feed(slot, .workerFailed(pid: worker.pid, reason: reason))
            }
        }
    }

    /// A worker whose channel is of no more use is killed; its exit is
    /// told like a crash's. A reaped one is not signalled: its pid may
    /// already be another process's.
    private func channelBroke(_ slot: PluginSlot, _ worker: WorkerHandle, _ reason: String) {
        closeChannel(worker)
        guard !worker.reaped else { return Log.error(reason, plugin: slot.name ?? slot.file) }
        Log.error("\(reason); killing it", plugin: slot.name ?? slot.file)
        ChildProcess.signal(worker.pid, SIGKILL)
    }

    private func workerLoaded(_ slot: PluginSlot, _ worker: WorkerHandle, _ report: PluginReport) {
        worker.loaded = report
        feed(slot, .workerLoaded(pid: worker.pid, name: report.name, problem: loadProblem(slot, worker.generation, report)))
    }

    /// What is wrong with a loaded plugin beyond its own slot: a name
    /// another file serves, a route_timeouts entry for a route it lacks.
    private func loadProblem(_ slot: PluginSlot, _ generation: Generation, _ report: PluginReport) -> String? {
        let name = report.name
        if let owner = slots.first(where: { $0 !== slot && !$0.removed && $0.name == name }) {
            return "duplicate plugin name \"\(name)\": \(owner.file) already serves it; give each plugin a unique name"
        }
        // route_timeouts names routes "METHOD /pattern", as ChannelRoute.label does.
        let routeKeys = report.routes.map(\.label)
        if let unknown = generation.settings.routeTimeouts.keys.sorted().first(where: { !routeKeys.contains($0) }) {
            return "\(PluginSettings.path(forPlugin: slot.file)): route_timeouts names \"\(unknown)\", which plugin \(name) does not have; its routes are \(routeKeys.joined(separator: ", "))"
        }
        return nil
    }

    /// Hands the worker the plugin's socket (created on first use). Every
    /// way this can fail is fed back as `serveRefused`: a worker left
    /// loading would keep the reload from ever settling, and every later
    /// reload queued behind it.
    func serve(_ slot: PluginSlot, pid: pid_t, generation number: Int, name: String) {
        // Reaped: reapChildren feeds its exit next, which says why it never
        // served; a refusal would fail its whole generation, where the exit
        // of a restarted worker only restarts it.
        if slot.workers[pid]?.reaped == true { return }
        guard let worker = slot.workers[pid], let generation = slot.generations[number], let loaded = worker.loaded else {
            return feed(slot, .serveRefused(pid: pid, reason: "internal error: worker \(pid) was to be handed the socket of \(name) but the host has no record of its loaded report or of generation \(number); please report this; `berth restart \(name)` starts the plugin afresh"))
        }
        let listener: FileDescriptor
        do {
            listener = try listeners.listener(for: name, at: configuration.socketPath(for: name))
        } catch {
            return feed(slot, .serveRefused(pid: pid, reason: "cannot create the socket for \(name): \(error)"))
        }
        do {
            try worker.channel.send(.serve(serveSettings(generation.settings)), passing: listener)
        } catch {
            return feed(slot, .serveRefused(pid: pid, reason: "cannot hand the socket of \(name) to worker \(pid): \(error); fix that (out of descriptors: raise the host's LimitNOFILE; over the limit: fewer scoped tokens or route_timeouts), then `berth restart \(name)`"))
        }
        generation.abi = loaded.abi
        generation.routes = loaded.routes.map {
            .init(method: $0.method.description, pattern: $0.pattern, isPublic: $0.isPublic, scope: $0.scope)
        }
        worker.loaded = nil
        feed(slot, .workerServing(pid: pid, name: name, version: loaded.version))
    }

    /// What the serve message carries besides the socket: everything the
    /// worker needs to serve.
    private func serveSettings(_ settings: PluginSettings) -> ServeSettings {
        ServeSettings(adminToken: token.bytes, clientLimits: settings.clientLimits, timeouts: settings.handlerTimeouts,
                      scopedTokens: scopedTokens, allowedUIDs: settings.allowedUIDs)
    }

    /// Asks a worker to finish its in-flight requests and exit. Closing the
    /// channel reaches a worker still loading, which does not read signals.
    /// A reaped one is not signalled (its pid may already be another
    /// process's); its channel is closed all the same.
    func stop(_ worker: WorkerHandle) {
        guard !worker.stopping else { return }
        if !worker.reaped {
            worker.stopping = true
            ChildProcess.signal(worker.pid, SIGTERM)
        }
        closeChannel(worker)
    }

    func closeChannel(_ worker: WorkerHandle) {
        worker.channel.close()
    }
}
