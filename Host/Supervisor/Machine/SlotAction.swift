/// What a `SlotMachine` asks the Supervisor to do. Executing an action may
/// produce a new event (a spawned worker's pid, a refused socket), which the
/// Supervisor feeds back to the same machine.
enum SlotAction: Equatable {
    /// Start a worker for one instance of a generation (then feed
    /// `workerStarted` or `spawnFailed`). The Supervisor also starts its
    /// load deadline (init_timeout_seconds), fed back as `loadDeadlinePassed`.
    case spawn(generation: Int, instance: Int)
    /// Tell the worker its plugin's name is granted: it calls init now. The
    /// load deadline starts again from here.
    case initialize(pid: Int32)
    /// Hand the worker the socket of `name` (then feed `workerServing`, or
    /// `serveRefused` if the socket cannot be created).
    case serve(pid: Int32, generation: Int, name: String)
    /// Ask the worker to finish in-flight requests and exit. The Supervisor
    /// also starts its drain deadline (drain_seconds plus a grace), fed
    /// back as `drainDeadlinePassed` if it has not exited by then.
    case stop(pid: Int32)
    case kill(pid: Int32)
    /// Hand the worker the current token table.
    case sendTokens(pid: Int32)
    /// Answer 503 with `reason` on the plugin's socket while no worker can.
    case openUnavailable(reason: String)
    case closeUnavailable
    /// The plugin is gone: remove its socket file.
    case removeSocket(name: String)
    case scheduleRestart(generation: Int, instance: Int, afterSeconds: Double)
    /// Forget every pending restart (the host is stopping).
    case cancelRestarts
    case log(LogLine)
    /// What the reload that touched this slot did to it; once per reload.
    case settled(ReloadOutcome)
}

/// A log line the machine decided on; the Supervisor writes it.
struct LogLine: Equatable {
    enum Level { case info, warn, error }
    var level: Level
    var message: String
    var plugin: String?
}

/// What a reload did to one file, for its report.
enum ReloadOutcome: Equatable {
    case added
    case updated
    case removed
    case unchanged
    /// Unchanged, but it had failed: loaded again, and now serves.
    case retried
    /// The file could not be read; whatever ran keeps running.
    case notReloaded(reason: String)
    /// A new generation did not start.
    case failed(reason: String)
}
