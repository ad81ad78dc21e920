import BerthPOSIX

/// What can happen to a plugin file's slot. The Supervisor turns folder
/// scans, commands, signals, channel messages, exits and timers into these
/// and feeds them to the slot's `SlotMachine`. Workers are named by pid,
/// generations by number.
enum SlotEvent {
    /// A reload looked at the file: it read as `scan`. `forced` (berth
    /// restart) starts a new generation even when nothing changed.
    case scanned(Scan, forced: Bool)
    /// A reload found the file gone.
    case removed
    /// The host is stopping (SIGTERM, SIGINT).
    case shutdown

    /// A `spawn` action started this worker.
    case workerStarted(pid: Int32, generation: Int, instance: Int)
    /// A `spawn` action could not start a worker.
    case spawnFailed(generation: Int, error: String)
    /// The worker's plugin calls itself `name` (its init has not run yet).
    /// The Supervisor feeds this once it has decided across slots whether
    /// this file may use the name: `problem` says why not (a name another
    /// file holds, or one whose file sorts first).
    case workerNamed(pid: Int32, name: String, problem: String?)
    /// The worker loaded the plugin, which calls itself `name`. `problem`
    /// is what the Supervisor found wrong with it across slots and settings
    /// (a duplicate name, an unknown route in route_timeouts), if anything.
    case workerLoaded(pid: Int32, name: String, problem: String?)
    /// A `serve` action could not create the plugin's socket.
    case serveRefused(pid: Int32, reason: String)
    /// A `serve` action handed the worker its socket: it answers requests.
    case workerServing(pid: Int32, name: String, version: String?)
    /// The worker could not load the plugin.
    case workerFailed(pid: Int32, reason: String)
    /// The worker was reaped; its `WorkerExit` says how it ended, and the
    /// limit it broke, if any.
    case workerExited(pid: Int32, WorkerExit)

    /// The tokens file changed: every serving worker must get the new table.
    case tokensChanged
    /// A `sendTokens` action could not reach the worker.
    case tokensUndeliverable(pid: Int32, error: String)
    /// The worker applied the tokens it was sent.
    case tokensApplied(pid: Int32)

    /// The worker has been loading (library, init) for `seconds`, its
    /// plugin's init_timeout_seconds, without reporting `loaded`.
    case loadDeadlinePassed(pid: Int32, seconds: Double)
    /// The worker was asked to stop `seconds` ago (its drain_seconds plus
    /// a grace) and has not exited.
    case drainDeadlinePassed(pid: Int32, seconds: Double)

    /// A restart scheduled by `scheduleRestart` is due.
    case restartTimerFired(generation: Int, instance: Int)

    /// The file as a reload read it.
    enum Scan: Equatable {
        /// Read into generation `number` (the machine's `nextGenerationNumber`).
        case readable(number: Int, fingerprint: String, instances: Int)
        /// Could not be read or its settings are invalid.
        case unreadable(reason: String)
    }
}

/// How a worker ended, with what the machine needs to decide what follows.
struct WorkerExit {
    var status: ChildProcess.Exit
    /// The limit it broke (reported by its watchdog, found by the limit
    /// check or by its CPU time), so its exit is told as that.
    var breach: LimitBreach?
    var uptimeSeconds: Double
    /// Wall-clock seconds, for the crash-loop window.
    var now: Double
}
