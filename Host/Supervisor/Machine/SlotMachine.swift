/// The life of one plugin file, as a value: it takes `SlotEvent`s and
/// returns `SlotAction`s, which the Supervisor executes (processes,
/// sockets, timers, log lines). It makes no syscalls and holds no objects,
/// so a unit test drives it by feeding events (see UnitSlotMachineTests).
///
/// A slot holds up to three kinds of generation: `current` (serves, or is
/// the one trying to), `candidate` (a new version loading beside a serving
/// current) and `retiring` (replaced or failed, its workers draining).
///
/// Transitions (`state` as status prints it; every event not listed leaves
/// the state alone):
///
///     starting   --every instance serves-------------------> running
///     starting   --a worker fails or crashes while loading---> failed
///     running    --scanned: changed, or forced (restart)-----> reloading
///     running    --scanned: unchanged or unreadable----------> running
///     running    --a worker crashes or times out-------------> restarting
///     restarting --restart timer, the new worker serves------> running
///     restarting --more than crashLimit crashes in window----> failed (503)
///     reloading  --every new instance serves-----------------> running (old retires)
///     reloading  --the new generation fails------------------> running (old keeps serving)
///     failed     --scanned: changed, or forced---------------> starting
///     any        --removed-------------------------------> removed (drains)
///     any        --shutdown------------------------------> stopping
///
/// A reload that touches the slot (scanned, removed) gets exactly one
/// `settled` action back, once nothing it started still loads or drains.
struct SlotMachine {
    /// Whether the slot still takes part in reloads.
    enum Lifecycle {
        case active
        /// Its file is gone; its workers drain, then the slot is dropped.
        case removed
        /// The host is stopping.
        case stopping
    }

    /// What the reload that touched the slot waits to report.
    enum Awaiting: Equatable {
        case outcome(ReloadOutcome)
        /// Generation `number` should serve; `failure` is why it did not.
        case generation(number: Int, added: Bool, failure: String?)
        case removal
    }

    let file: String
    /// Crash-loop rule and socket paths (a value; nothing is opened).
    let configuration: Configuration
    /// The socket name this file's plugin owns, once it has served.
    var name: String?
    var current: GenerationRecord?
    var candidate: GenerationRecord?
    var retiring: [GenerationRecord] = []
    var lifecycle = Lifecycle.active
    var awaiting: Awaiting?
    var generationsMade = 0
    /// False until the first scan: a file seen for the first time is added.
    var scannedBefore = false

    var restarts = 0
    var lastExit: String?
    /// The setting whose limit the last stopped worker broke.
    var lastLimit: String?
    /// Requests answered 504 because their handler ran too long.
    var timeouts = 0
    var lastReloadError: String?
    /// When workers crashed, within the crash window.
    var crashTimes: [Double] = []
    var policy = RestartPolicy()

    init(file: String, configuration: Configuration) {
        self.file = file
        self.configuration = configuration
    }

    /// The number a newly read generation gets.
    var nextGenerationNumber: Int { generationsMade + 1 }

    var generations: [GenerationRecord] { [current, candidate].compactMap { $0 } + retiring }
    var workers: [WorkerRecord] { generations.flatMap(\.workers) }

    /// Removed and every worker gone: the Supervisor can drop the slot.
    var isDrained: Bool { lifecycle == .removed && workers.isEmpty }

    mutating func handle(_ event: SlotEvent) -> [SlotAction] {
        var actions: [SlotAction] = []
        switch event {
        case .scanned(let scan, let forced): scanned(scan, forced: forced, &actions)
        case .removed: removed(&actions)
        case .shutdown: shutdown(&actions)
        case .workerStarted(let pid, let generation, let instance): workerStarted(pid, generation, instance, &actions)
        case .spawnFailed(let generation, let error):
            fail(generation, "cannot start a worker for \(file): \(error)", &actions)
        case .workerLoaded(let pid, let name, let problem): workerLoaded(pid, name, problem, &actions)
        case .serveRefused(let pid, let reason):
            if let generation = generationNumber(of: pid) { fail(generation, reason, &actions) }
        case .workerServing(let pid, let name, let version): workerServing(pid, name, version, &actions)
        case .workerFailed(let pid, let reason): workerFailed(pid, reason, &actions)
        case .workerExited(let pid, let exit): workerExited(pid, exit, &actions)
        case .tokensChanged: tokensChanged(&actions)
        case .tokensUndeliverable(let pid, let error): tokensUndeliverable(pid, error, &actions)
        case .tokensApplied(let pid): updateWorker(pid) { $0.tokensPending = false }
        case .restartTimerFired(let generation, let instance): restartDue(generation, instance, &actions)
        }
        retiring.removeAll { $0.workers.isEmpty }
        settleIfDone(&actions)
        return actions
    }

    /// Something a reload started is still under way.
    var isBusy: Bool {
        candidate != nil || current?.state == .loading || !retiring.isEmpty || workers.contains { $0.tokensPending }
    }

    private mutating func settleIfDone(_ actions: inout [SlotAction]) {
        guard let awaiting, !isBusy else { return }
        self.awaiting = nil
        switch awaiting {
        case .outcome(let outcome):
            actions.append(.settled(outcome))
        case .removal:
            actions.append(.settled(.removed))
        case .generation(let number, let added, let failure):
            if let current, current.number == number, current.state == .serving {
                actions.append(.settled(added ? .added : .updated))
            } else {
                actions.append(.settled(.failed(reason: failure ?? lastReloadError ?? "did not start")))
            }
        }
    }
}
