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
        feed(slot, .workerStarted(pid: worker.pid, generation: number, instance: instance))
        do {
            try worker.channel.attach(to: loop) { [unowned self, unowned slot, unowned worker] in
                self.channelReadable(slot, worker)
            }
        } catch {
            return feed(slot, .spawnFailed(generation: number, error: "\(error)"))
        }
        watchLimits()
    }

    /// Turns each whole message the worker has sent into an event for its
    /// slot, without waiting for more: a message still arriving is kept.
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
                return channelBroke(slot, worker, "worker \(worker.pid) sent what the host cannot read: \(error)")
            }
            switch message {
            case .loaded(let report):
                workerLoaded(slot, worker, loadedPlugin(report))
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
    /// told like a crash's.
    private func channelBroke(_ slot: PluginSlot, _ worker: WorkerHandle, _ reason: String) {
        closeChannel(worker)
        Log.error("\(reason); killing it", plugin: slot.name ?? slot.file)
        ChildProcess.signal(worker.pid, SIGKILL)
    }

    /// What a loaded message says, as the host keeps it.
    private func loadedPlugin(_ report: PluginReport) -> LoadedPlugin {
        LoadedPlugin(name: report.name, version: report.version, abi: report.abi,
                     routes: report.routes.map {
                         .init(method: $0.method.description, pattern: $0.pattern, isPublic: $0.isPublic, scope: $0.scope)
                     },
                     routeKeys: report.routes.map(\.label))
    }

    private func workerLoaded(_ slot: PluginSlot, _ worker: WorkerHandle, _ loaded: LoadedPlugin) {
        worker.loaded = loaded
        feed(slot, .workerLoaded(pid: worker.pid, name: loaded.name, problem: loadProblem(slot, worker.generation, loaded)))
    }

    /// What is wrong with a loaded plugin beyond its own slot: a name
    /// another file serves, a route_timeouts entry for a route it lacks.
    private func loadProblem(_ slot: PluginSlot, _ generation: Generation, _ loaded: LoadedPlugin) -> String? {
        let name = loaded.name
        if let owner = slots.first(where: { $0 !== slot && !$0.removed && $0.name == name }) {
            return "duplicate plugin name \"\(name)\": \(owner.file) already serves it; give each plugin a unique name"
        }
        if let unknown = generation.settings.routeTimeouts.keys.sorted().first(where: { !loaded.routeKeys.contains($0) }) {
            return "\(PluginSettings.path(forPlugin: slot.file)): route_timeouts names \"\(unknown)\", which plugin \(name) does not have; its routes are \(loaded.routeKeys.joined(separator: ", "))"
        }
        return nil
    }

    /// Hands the worker the plugin's socket (created on first use).
    func serve(_ slot: PluginSlot, pid: pid_t, generation number: Int, name: String) {
        guard let worker = slot.workers[pid], let generation = slot.generations[number], let loaded = worker.loaded else { return }
        let listener: FileDescriptor
        do {
            listener = try listeners.listener(for: name, at: configuration.socketPath(for: name))
        } catch {
            return feed(slot, .serveRefused(pid: pid, reason: "cannot create the socket for \(name): \(error)"))
        }
        do {
            try worker.channel.send(.serve(serveSettings(generation.settings)), passing: listener)
        } catch {
            Log.error("cannot hand the socket to worker \(worker.pid): \(error)", plugin: name)
            return
        }
        generation.version = loaded.version
        generation.abi = loaded.abi
        generation.routes = loaded.routes
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
    func stop(_ worker: WorkerHandle) {
        guard !worker.stopping else { return }
        worker.stopping = true
        ChildProcess.signal(worker.pid, SIGTERM)
        closeChannel(worker)
    }

    func closeChannel(_ worker: WorkerHandle) {
        guard worker.channelOpen else { return }
        worker.channelOpen = false
        worker.channel.close()
    }
}
