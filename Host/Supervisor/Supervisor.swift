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
/// Each slot's decisions are its `SlotMachine`'s (see Machine/): the
/// Supervisor turns what happens (scans, channel messages, exits, timers)
/// into its events and executes the actions it returns (Supervisor+Actions).
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
    public internal(set) var scopedTokens: [ScopedToken]
    /// Admin token and scoped tokens, for the control socket (which only
    /// the admin token may use).
    public internal(set) var tokenTable: TokenTable
    let listeners = ListenerRegistry()
    public internal(set) var slots: [PluginSlot] = []
    var slotsMade = 0
    var workersByPID: [pid_t: (slot: PluginSlot, worker: WorkerHandle)] = [:]
    var reloads = ReloadQueue()
    var activeReload: ReloadRun?
    /// How deep action execution is nested (an action's result is fed back
    /// as an event); a reload ends only once the outermost has finished.
    var executionDepth = 0
    /// The pending check of workers' memory and descriptors (Supervisor+Limits).
    var limitCheck: EventLoop.TimerID?
    /// Told once per reload that actually runs (not per request): the host
    /// logs it and tells systemd.
    public var onReloadStart: ((_ reasons: String) -> Void)?
    public var onReloadDone: ((ReloadReport) -> Void)?
    var onStopped: (() -> Void)?
    var shuttingDown = false
    /// decideNames is running (it feeds events, which would call it again).
    var decidingNames = false
    /// Settings files the last folder scan found with no plugin file of
    /// their name (UnmatchedSettings), for status.
    public internal(set) var unmatchedSettings: [String] = []

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
        request(ReloadRequest(restartOnly: nil, reason: "start", isStart: true, done: settled))
    }

    public var isReloading: Bool { activeReload != nil }

    /// Rescans the plugins folder and applies what changed; `done` gets the
    /// report once new generations serve and replaced ones have exited.
    public func reload(reason: String, _ done: @escaping (ReloadReport) -> Void) {
        request(ReloadRequest(restartOnly: nil, reason: reason, done: done))
    }

    /// Starts a fresh generation of one plugin even if its file is unchanged
    /// (`berth restart NAME`), leaving every other plugin alone; clears a
    /// crash-loop failure. `plugin` is its name (the one it serves under,
    /// or the one it declared before it failed) or its file name
    /// ("libx.so"; plugin names cannot hold a dot). False when none matches.
    public func restart(plugin: String, _ done: @escaping (ReloadReport) -> Void) -> Bool {
        let live = slots.filter { !$0.removed }
        guard let slot = live.first(where: { $0.name == plugin })
            ?? live.first(where: { $0.file.split(separator: "/").last.map(String.init) == plugin })
            ?? live.first(where: { $0.name == nil && $0.machine.declaredName == plugin })
        else { return false }
        request(ReloadRequest(restartOnly: [slot.file], reason: "restart \(plugin)", done: done))
        return true
    }

    private func request(_ request: ReloadRequest) {
        guard !shuttingDown, let run = reloads.ask(request) else { return }
        begin(run)
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
            for generation in slot.generations.values { longestDrain = max(longestDrain, generation.settings.drainSeconds) }
            feed(slot, .shutdown)
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
