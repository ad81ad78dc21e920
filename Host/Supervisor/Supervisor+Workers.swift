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
            try loop.register(worker.channel, .readable) { [unowned self, unowned slot, unowned worker] _ in
                self.channelReadable(slot, worker)
            }
        } catch {
            return feed(slot, .spawnFailed(generation: number, error: "\(error)"))
        }
        watchLimits()
    }

    /// Turns a message from the worker into an event for its slot.
    func channelReadable(_ slot: PluginSlot, _ worker: WorkerHandle) {
        guard let (bytes, _) = try? UnixSocket.receiveMessage(worker.channel) else {
            closeChannel(worker)
            return
        }
        let message = ChannelMessage(decoding: bytes)
        switch message.kind {
        case "loaded":
            workerLoaded(slot, worker, loadedPlugin(message))
        case "timeout":
            // The watchdog answered 504 and is ending the worker; its exit
            // follows (reapChildren).
            worker.breach = .timeout(route: message["route"], milliseconds: message["limit-ms"].flatMap { Int($0) })
        case "tokens-applied":
            feed(slot, .tokensApplied(pid: worker.pid))
        case "failed":
            feed(slot, .workerFailed(pid: worker.pid, reason: message["reason"] ?? "the worker gave no reason"))
        default:
            Log.warn("unexpected message \(message.kind) from worker \(worker.pid)")
        }
    }

    /// What a "loaded" message says.
    private func loadedPlugin(_ message: ChannelMessage) -> LoadedPlugin {
        LoadedPlugin(name: message["name"] ?? "", version: message["version"], abi: message["abi"],
                     routes: message.all("route").map { line in
                         let parts = line.split(separator: " ").map(String.init)
                         return .init(method: parts.first ?? "", pattern: parts.count > 1 ? parts[1] : "", isPublic: parts.contains("public"),
                                      scope: parts.first { $0.hasPrefix("scope=") }.map { String($0.dropFirst(6)) })
                     },
                     routeKeys: message.all("route").map { $0.hasSuffix(" public") ? String($0.dropLast(7)) : $0 })
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
            try UnixSocket.sendMessage(worker.channel, serveMessage(generation.settings).encoded(), passing: listener)
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

    /// The message that hands a worker its socket, with everything it
    /// needs to serve.
    private func serveMessage(_ settings: PluginSettings) -> ChannelMessage {
        var fields = [("token", token.string), ("max-request-bytes", String(settings.maxRequestBytes)),
                      ("idle-timeout", String(settings.idleTimeout)), ("read-timeout", String(settings.readTimeout)),
                      ("max-connections", String(settings.maxConnections))]
            + settings.timeoutFields + scopedTokens.map { ("scoped", $0.channelText) }
        if let uids = settings.allowedUIDs { fields.append(("allowed-uids", uids.map(String.init).joined(separator: ","))) }
        return ChannelMessage("serve", fields)
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
        loop.unregister(worker.channel)
        worker.channel.close()
    }
}
