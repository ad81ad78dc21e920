/// The life of one plugin file, as a value: it takes `SlotEvent`s and
/// returns `SlotAction`s, which the Supervisor executes (processes,
/// sockets, timers, log lines). It makes no syscalls and holds no objects,
/// so a unit test drives it by feeding events (see UnitSlotMachineTests).
///
/// A slot holds up to three kinds of generation: `current` (serves, or is
/// the one trying to), `candidate` (a new version loading beside a serving
/// current) and `retiring` (replaced or failed, its workers draining).
///
/// Transitions (`state` as status prints it), with the actions they
/// return; every event not listed leaves the state alone:
///
///     (new)      --scanned: readable------------> starting    spawn each instance
///     (new)      --scanned: unreadable----------> failed      settled(failed)
///     starting   --worker named-----------------> starting    initialize it (or fail: duplicate name)
///     starting   --worker loaded----------------> starting    serve it
///     starting   --load deadline passed---------> failed      kill it, stop the others
///     starting   --every instance serves--------> running     close 503, settled(added/updated)
///     starting   --worker fails / dies loading--> failed      stop the others, open 503 if it had served
///     running    --scanned: unchanged-----------> running     settled(unchanged)
///     running    --scanned: unreadable----------> running     settled(notReloaded)
///     running    --scanned: changed, or forced--> reloading   spawn the new generation beside
///     reloading  --every new instance serves----> running     stop the old; settled(updated) once it exited
///     reloading  --the new generation fails-----> running     stop the new; settled(failed) once it exited
///     running    --worker crashes---------------> restarting  schedule restart with backoff
///     running    --worker times out-------------> restarting  schedule restart at once, no crash counted
///     restarting --restart timer fired----------> restarting  spawn the same instance
///     restarting --it serves--------------------> running
///     restarting --crash past crashLimit--------> failed      stop the rest, open 503
///     failed     --scanned: any readable file---> starting    spawn a new generation (a reload retries
///                                                             a failed plugin: settled(retried) if it serves)
///     any        --drain deadline passed--------> (same)      kill the worker that did not stop
///     any        --removed----------------------> removed     stop all, close 503, remove the socket;
///                                                             settled(removed) once all exited
///     any        --shutdown---------------------> stopping    cancel restarts, stop all; never settles
///
/// A reload that touches the slot (scanned, removed) gets exactly one
/// `settled` action back, once nothing it started still loads or drains
/// and every serving worker has applied tokens it was sent.
///
/// Fields are changed only by `handle(_:)` and its helpers (the
/// SlotMachine+*.swift files); the Supervisor and tests read them.
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
        /// Generation `number` should serve, and then the reload reports
        /// `serves` (added, updated or retried); `failure` is why it did not.
        case generation(number: Int, serves: ReloadOutcome, failure: String?)
        case removal
    }

    let file: String
    /// Crash-loop rule and socket paths (a value; nothing is opened).
    let configuration: Configuration
    /// The socket name this file's plugin owns, once it has served.
    var name: String?
    /// The name its last worker reported, even if that worker failed
    /// afterwards (status shows it, `berth restart` finds the file by it).
    var declaredName: String?
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
        case .workerNamed(let pid, let name, let problem): workerNamed(pid, name, problem, &actions)
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
        case .loadDeadlinePassed(let pid, let seconds): loadDeadlinePassed(pid, seconds, &actions)
        case .drainDeadlinePassed(let pid, let seconds): drainDeadlinePassed(pid, seconds, &actions)
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
        case .generation(let number, let serves, let failure):
            if let current, current.number == number, current.state == .serving {
                actions.append(.settled(serves))
            } else {
                actions.append(.settled(.failed(reason: failure ?? lastReloadError ?? "did not start")))
            }
        }
    }
}
