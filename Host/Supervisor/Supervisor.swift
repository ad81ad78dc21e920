import BerthPOSIX
import BerthWire
import CBerthShims
import Glibc

/// Starts a worker per plugin file, hands each the socket named after its
/// plugin, restarts crashed workers with backoff, and stops them all on
/// shutdown. Runs on the host's event loop thread.
public final class Supervisor {
    private let loop: EventLoop
    private let configuration: Configuration
    private let token: AuthToken
    private let listeners = ListenerRegistry()
    public private(set) var slots: [PluginSlot] = []
    private var onSettled: (() -> Void)?
    private var onStopped: (() -> Void)?
    private var shuttingDown = false

    public init(loop: EventLoop, configuration: Configuration, token: AuthToken) {
        self.loop = loop
        self.configuration = configuration
        self.token = token
    }

    // MARK: Start

    /// Starts a worker for every `*.so` in the plugins folder; `settled`
    /// runs once every plugin is serving or has failed.
    public func start(settled: @escaping () -> Void) throws {
        onSettled = settled
        let names = try Files.list(configuration.pluginsDirectory).filter { $0.hasSuffix(".so") }
        for fileName in names {
            let slot = PluginSlot(file: "\(configuration.pluginsDirectory)/\(fileName)")
            slots.append(slot)
            do {
                slot.library = try Self.privateCopy(of: slot.file)
                try startWorker(slot)
            } catch {
                markFailed(slot, "cannot start \(slot.file): \(error)")
            }
        }
        if slots.isEmpty {
            Log.warn("no plugins in \(configuration.pluginsDirectory): copy a plugin's lib*.so there and restart")
        }
        checkSettled()
    }

    /// Copies the library into an anonymous in-memory file the worker
    /// dlopens: overwriting the file on disk later cannot crash it.
    static func privateCopy(of path: String) throws -> FileDescriptor {
        let bytes = try Files.read(path)
        let fd = FileDescriptor(rawValue: try syscall("memfd_create") { berth_memfd_create("berth-plugin") })
        do {
            try fd.writeAll(bytes)
            return fd
        } catch {
            fd.close()
            throw error
        }
    }

    private func startWorker(_ slot: PluginSlot) throws {
        let worker = try WorkerHandle.spawn(configuration: configuration, file: slot.file, library: slot.library!)
        slot.worker = worker
        slot.state = slot.state == .restarting ? .restarting : .starting
        try loop.register(worker.channel, .readable) { [unowned self] _ in
            self.channelReadable(slot, worker)
        }
    }

    private func channelReadable(_ slot: PluginSlot, _ worker: WorkerHandle) {
        guard let (bytes, _) = try? UnixSocket.receiveMessage(worker.channel) else {
            closeChannel(worker)
            return
        }
        let message = ChannelMessage(decoding: bytes)
        switch message.kind {
        case "loaded": pluginLoaded(slot, worker, message)
        case "failed": markFailed(slot, message["reason"] ?? "the worker gave no reason")
        default: Log.warn("unexpected message \(message.kind) from worker \(worker.pid)")
        }
    }

    private func pluginLoaded(_ slot: PluginSlot, _ worker: WorkerHandle, _ message: ChannelMessage) {
        let name = message["name"] ?? ""
        if let previous = slot.name, previous != name {
            return reject(slot, worker, "\(slot.file) now names itself \"\(name)\" instead of \"\(previous)\"; restart berth to rename a plugin")
        }
        if let owner = slots.first(where: { $0 !== slot && $0.name == name && $0.state != .failed }) {
            return reject(slot, worker, "duplicate plugin name \"\(name)\": \(owner.file) already serves it; give each plugin a unique name")
        }
        let listener: FileDescriptor
        do {
            listener = try listeners.listener(for: name, at: configuration.socketPath(for: name))
        } catch {
            return reject(slot, worker, "cannot create the socket for \(name): \(error)")
        }
        let serve = ChannelMessage("serve", [("token", token.string), ("max-request-bytes", String(configuration.maxRequestBytes))])
        do {
            try UnixSocket.sendMessage(worker.channel, serve.encoded(), passing: listener)
        } catch {
            Log.error("cannot hand the socket to worker \(worker.pid): \(error)", plugin: name)
            return
        }
        slot.name = name
        slot.version = message["version"]
        slot.abi = message["abi"]
        slot.routes = message.all("route").map { line in
            let parts = line.split(separator: " ").map(String.init)
            return .init(method: parts.first ?? "", pattern: parts.count > 1 ? parts[1] : "", isPublic: parts.contains("public"))
        }
        let wasRestart = slot.state == .restarting
        slot.state = .running
        slot.error = nil
        Log.info("serving \(configuration.socketPath(for: name)) (version \(slot.version ?? "?"), worker \(worker.pid)\(wasRestart ? ", restart \(slot.restarts)" : ""))", plugin: name)
        checkSettled()
    }

    private func reject(_ slot: PluginSlot, _ worker: WorkerHandle, _ reason: String) {
        try? UnixSocket.sendMessage(worker.channel, ChannelMessage("reject", [("reason", reason)]).encoded())
        markFailed(slot, reason)
    }

    private func markFailed(_ slot: PluginSlot, _ reason: String) {
        slot.state = .failed
        slot.error = reason
        Log.error("plugin not loaded: \(reason)", plugin: slot.name)
        checkSettled()
    }

    private func checkSettled() {
        guard let settled = onSettled, !slots.contains(where: { $0.state == .starting }) else { return }
        onSettled = nil
        settled()
    }

    private func closeChannel(_ worker: WorkerHandle) {
        guard worker.channelOpen else { return }
        worker.channelOpen = false
        loop.unregister(worker.channel)
        worker.channel.close()
    }

    // MARK: Exits and restarts

    /// Reaps ended workers (call on SIGCHLD) and decides what follows.
    public func reapChildren() {
        for (pid, exit) in ChildProcess.reapAll() {
            guard let slot = slots.first(where: { $0.worker?.pid == pid }), let worker = slot.worker else { continue }
            // SIGCHLD can be handled before the worker's last message (why
            // it failed to load) has been read: read what is left first.
            while worker.channelOpen { channelReadable(slot, worker) }
            slot.history.add(worker.stats.snapshot())
            slot.worker = nil
            slot.lastExit = exit.description
            workerExited(slot, worker, exit)
        }
        if shuttingDown && !slots.contains(where: { $0.worker != nil }) {
            finishShutdown()
        }
    }

    private func workerExited(_ slot: PluginSlot, _ worker: WorkerHandle, _ exit: ChildProcess.Exit) {
        let label = slot.name ?? slot.file
        switch slot.state {
        case .stopping, .stopped:
            slot.state = .stopped
        case .failed:
            break
        case .starting:
            markFailed(slot, "\(slot.file): the worker \(exit) while loading the plugin (a crash in its entry or init function?)")
        case .running, .restarting:
            let delay = slot.policy.delayAfterCrash(uptime: worker.uptimeSeconds)
            slot.restarts += 1
            slot.state = .restarting
            Log.error("worker \(worker.pid) \(exit); restarting in \(delay) s (restart \(slot.restarts)); other plugins are unaffected", plugin: label)
            slot.restartTimer = loop.schedule(afterSeconds: delay) { [unowned self] in
                slot.restartTimer = nil
                guard !self.shuttingDown else { return }
                do {
                    try self.startWorker(slot)
                } catch {
                    self.markFailed(slot, "cannot restart \(label): \(error)")
                }
            }
        }
    }

    // MARK: Shutdown

    /// Removes the sockets, asks every worker to finish its in-flight
    /// requests and exit, kills stragglers after the drain time, and calls
    /// `stopped` once all are reaped.
    public func shutdown(stopped: @escaping () -> Void) {
        guard !shuttingDown else { return }
        shuttingDown = true
        onStopped = stopped
        listeners.removeAll()
        for slot in slots {
            if let timer = slot.restartTimer { loop.cancel(timer) }
            guard let worker = slot.worker else { continue }
            slot.state = .stopping
            ChildProcess.signal(worker.pid, SIGTERM)
            // A worker still loading waits on the channel, not on signals.
            closeChannel(worker)
        }
        loop.schedule(afterSeconds: configuration.drainSeconds + 2) { [unowned self] in
            for slot in self.slots {
                if let worker = slot.worker {
                    Log.warn("worker \(worker.pid) did not stop within \(self.configuration.drainSeconds) s; killing it", plugin: slot.name)
                    ChildProcess.signal(worker.pid, SIGKILL)
                }
            }
        }
        reapChildren()
    }

    private func finishShutdown() {
        guard let stopped = onStopped else { return }
        onStopped = nil
        for slot in slots { slot.library?.close() }
        stopped()
    }

    // MARK: Status

    public var statusDocument: JSONValue { .array(slots.map(\.statusDocument)) }

    public func routesDocument(plugin name: String) -> JSONValue? {
        slots.first { $0.name == name }?.routesDocument
    }
}
