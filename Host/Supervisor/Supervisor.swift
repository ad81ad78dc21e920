import BerthAuth
import BerthJSON
import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

/// Runs the plugins: a slot per plugin file, generations of workers per
/// slot. Starting, reloading (SIGHUP, `berth reload`), restarting and
/// stopping are all driven from the host's single event-loop thread.
///
/// Reload rules:
/// - a new file is loaded and served;
/// - a removed file's socket is removed and its workers drain and exit;
/// - a changed file (library or settings, by SHA-256) gets a new generation
///   on the same socket; the old one stops only once every new instance
///   serves, and keeps serving if the new one fails;
/// - an unchanged file keeps its workers.
/// Reloads never overlap: one asked for during another runs after it.
public final class Supervisor {
    let loop: EventLoop
    let configuration: Configuration
    let token: AuthToken
    /// The tokens file's tokens as last loaded; every serving worker has them.
    public private(set) var scopedTokens: [ScopedToken]
    /// Admin token and scoped tokens, for the control socket (which only
    /// the admin token may use).
    public private(set) var tokenTable: TokenTable
    let listeners = ListenerRegistry()
    public internal(set) var slots: [PluginSlot] = []
    var workersByPID: [pid_t: (slot: PluginSlot, worker: WorkerHandle)] = [:]
    var activeReload: LegacyReloadRun?
    /// The pending check of workers' memory and descriptors (Supervisor+Limits).
    var limitCheck: EventLoop.TimerID?
    private var queuedReloads: [ReloadRequest] = []
    /// Told once per reload that actually runs (not per request): the host
    /// logs it and tells systemd.
    public var onReloadStart: ((_ reasons: String) -> Void)?
    public var onReloadDone: ((ReloadReport) -> Void)?
    var onStopped: (() -> Void)?
    var shuttingDown = false

    public init(loop: EventLoop, configuration: Configuration, token: AuthToken, scopedTokens: [ScopedToken] = []) {
        self.loop = loop
        self.configuration = configuration
        self.token = token
        self.scopedTokens = scopedTokens
        tokenTable = TokenTable(admin: token, scoped: scopedTokens)
    }

    /// Loads every plugin; `settled` runs once each serves or has failed.
    /// A plugins folder that cannot be read stops the start (later, a
    /// reload that cannot read it fails and leaves everything running).
    public func start(settled: @escaping (ReloadReport) -> Void) throws {
        _ = try Files.list(configuration.pluginsDirectory)
        begin(LegacyReloadRun([ReloadRequest(restartOnly: nil, reason: "start", done: settled)]))
    }

    public var isReloading: Bool { activeReload != nil }

    /// Rescans the plugins folder and applies what changed; `done` gets the
    /// report once new generations serve and replaced ones have exited.
    public func reload(reason: String, _ done: @escaping (ReloadReport) -> Void) {
        request(ReloadRequest(restartOnly: nil, reason: reason, done: done))
    }

    /// Starts a fresh generation of one plugin even if its file is unchanged
    /// (`berth restart NAME`), leaving every other plugin alone; clears a
    /// crash-loop failure. False when no plugin has that name.
    public func restart(plugin name: String, _ done: @escaping (ReloadReport) -> Void) -> Bool {
        guard let slot = slots.first(where: { !$0.removed && ($0.name == name || $0.current?.name == name) }) else { return false }
        request(ReloadRequest(restartOnly: [slot.file], reason: "restart \(name)", done: done))
        return true
    }

    private func request(_ request: ReloadRequest) {
        guard !shuttingDown else { return }
        if activeReload != nil {
            queuedReloads.append(request)
        } else {
            begin(LegacyReloadRun([request]))
        }
    }

    private func begin(_ run: LegacyReloadRun) {
        activeReload = run
        if !run.requests.contains(where: { $0.reason == "start" }) { onReloadStart?(run.reasons) }
        let forced = run.forced
        if run.restartsOnly {
            for slot in slots where !slot.removed && forced.contains(slot.file) {
                refresh(slot, run, forced: true)
            }
            return checkReload()
        }
        reloadTokens(run)
        let files: [String]
        do {
            files = try Files.list(configuration.pluginsDirectory).filter { $0.hasSuffix(".so") }
                .map { "\(configuration.pluginsDirectory)/\($0)" }
        } catch {
            run.report.failed.append((configuration.pluginsDirectory, "cannot read the plugins folder: \(error)"))
            files = slots.filter { !$0.removed }.map(\.file)
        }
        for file in files {
            if let slot = slots.first(where: { $0.file == file && !$0.removed }) {
                refresh(slot, run, forced: forced.contains(file))
            } else {
                add(file, run)
            }
        }
        for slot in slots where !slot.removed && !files.contains(slot.file) {
            remove(slot, run)
        }
        if files.isEmpty && slots.isEmpty {
            Log.warn("no plugins in \(configuration.pluginsDirectory): copy a plugin's lib*.so there, then `berth reload`")
        }
        checkReload()
    }

    private func add(_ file: String, _ run: LegacyReloadRun) {
        let slot = PluginSlot(file: file)
        slots.append(slot)
        do {
            let generation = try Generation.load(file: file, number: slot.nextGenerationNumber(), defaults: configuration)
            slot.current = generation
            run.actions.append((slot, .add, generation))
            startWorkers(slot, generation)
        } catch {
            let failed = Generation.failedPlaceholder(number: slot.generationsMade, reason: "cannot load \(file): \(error)")
            slot.current = failed
            run.actions.append((slot, .add, failed))
            Log.error("plugin not loaded: \(failed.failure!)")
        }
    }

    private func refresh(_ slot: PluginSlot, _ run: LegacyReloadRun, forced: Bool) {
        let generation: Generation
        do {
            generation = try Generation.load(file: slot.file, number: slot.generationsMade + 1, defaults: configuration)
        } catch {
            let reason = "cannot load \(slot.file): \(error)"
            slot.lastReloadError = reason
            run.report.failed.append((slot.file, reason))
            Log.error("reload failed: \(reason); the running version keeps serving", plugin: slot.name)
            return
        }
        // Same bytes, same settings: keep what runs, and keep a failed
        // version down (loading it again would fail again).
        if let current = slot.current, current.fingerprint == generation.fingerprint, !forced {
            // What runs is what the folder holds: an earlier failed update
            // is no longer pending.
            slot.lastReloadError = nil
            run.report.unchanged.append(slot.file)
            return
        }
        // A plugin that never served is being added, not updated.
        let action: LegacyReloadRun.Action = slot.name == nil ? .add : .update
        _ = slot.nextGenerationNumber()
        slot.crashTimes.removeAll()
        slot.policy = RestartPolicy()
        if let current = slot.current, current.state == .serving {
            slot.candidate = generation
        } else {
            if let current = slot.current { retire(slot, current) }
            slot.current = generation
        }
        run.actions.append((slot, action, generation))
        startWorkers(slot, generation)
    }

    private func remove(_ slot: PluginSlot, _ run: LegacyReloadRun) {
        slot.removed = true
        run.actions.append((slot, .remove, nil))
        for generation in slot.allGenerations { retire(slot, generation) }
        slot.current = nil
        slot.candidate = nil
        stopUnavailable(slot)
        if let name = slot.name { listeners.remove(name) }
        Log.info("removed: \(slot.file); its workers finish in-flight requests and exit", plugin: slot.name)
        dropFinishedGenerations(slot)
    }

    /// Ends a reload once nothing it started is still loading or draining.
    func checkReload() {
        guard let run = activeReload else { return }
        let busy = slots.contains { slot in
            slot.candidate != nil || slot.current?.state == .loading || !slot.retiring.isEmpty
                || slot.allWorkers.contains { $0.tokensPending }
        }
        if busy { return }
        for (slot, action, generation) in run.actions {
            switch action {
            case .remove:
                run.report.removed.append(slot.file)
            case .add, .update:
                if let generation, slot.current === generation, generation.state == .serving {
                    if action == .add { run.report.added.append(slot.file) } else { run.report.updated.append(slot.file) }
                } else {
                    let reason = generation?.failure ?? slot.lastReloadError ?? "did not start"
                    run.report.failed.append((slot.file, reason))
                }
            }
        }
        activeReload = nil
        slots.removeAll { $0.removed && $0.allWorkers.isEmpty }
        if !run.requests.contains(where: { $0.reason == "start" }) { onReloadDone?(run.report) }
        for request in run.requests { request.done(run.report) }
        if !queuedReloads.isEmpty && !shuttingDown {
            let next = LegacyReloadRun(queuedReloads)
            queuedReloads.removeAll()
            begin(next)
        }
    }

    // MARK: Tokens

    /// Reads the tokens file again (every reload but a restart) and hands a
    /// changed table to every serving worker; the reload ends once each has
    /// applied it, so a revoked token is refused from then on. A bad file
    /// fails the reload and leaves the tokens loaded before in force.
    private func reloadTokens(_ run: LegacyReloadRun) {
        guard let path = configuration.tokensFile, !run.requests.contains(where: { $0.reason == "start" }) else { return }
        let loaded: [ScopedToken]
        do {
            loaded = try TokenFile.load(path, admin: token)
        } catch {
            run.report.failed.append((path, "\(error)"))
            Log.error("tokens file not reloaded: \(error); the tokens loaded before stay in force")
            return
        }
        guard loaded != scopedTokens else { return }
        scopedTokens = loaded
        tokenTable = TokenTable(admin: token, scoped: loaded)
        Log.info("tokens: \(loaded.count) scoped token(s) from \(path); handing them to the serving workers")
        let message = ChannelMessage("tokens", loaded.map { ("scoped", $0.channelText) }).encoded()
        for slot in slots {
            for worker in slot.allWorkers where worker.phase == .serving && worker.channelOpen {
                do {
                    try UnixSocket.sendMessage(worker.channel, message)
                    worker.tokensPending = true
                } catch {
                    Log.error("cannot hand the new tokens to worker \(worker.pid): \(error); stopping it so a fresh one starts with them", plugin: slot.name)
                    ChildProcess.signal(worker.pid, SIGKILL)
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
        var longestDrain = configuration.drainSeconds
        for slot in slots {
            slot.stopping = true
            for timer in slot.restartTimers.keys { loop.cancel(timer) }
            slot.restartTimers.removeAll()
            stopUnavailable(slot)
            for generation in slot.allGenerations {
                longestDrain = max(longestDrain, generation.settings.drainSeconds)
                for worker in generation.workers { stop(worker) }
            }
        }
        loop.schedule(afterSeconds: longestDrain + 2) { [unowned self] in
            for (pid, entry) in self.workersByPID {
                Log.warn("worker \(pid) did not stop within its drain time; killing it", plugin: entry.slot.name)
                ChildProcess.signal(pid, SIGKILL)
            }
        }
        checkStopped()
    }

    func checkStopped() {
        guard shuttingDown, workersByPID.isEmpty, let stopped = onStopped else { return }
        onStopped = nil
        stopped()
    }

    // MARK: Status

    public var statusDocument: JSONValue { .array(slots.map(\.statusDocument)) }

    public func routesDocument(plugin name: String) -> JSONValue? {
        slots.first { $0.name == name && !$0.removed }?.routesDocument
    }
}
