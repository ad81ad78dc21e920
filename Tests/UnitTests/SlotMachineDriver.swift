@testable import BerthSupervisor
import BerthPOSIX
import Glibc

/// Drives one `SlotMachine` the way the Supervisor would, without
/// processes: spawn actions get made-up pids, time is a number the test
/// moves forward.
struct SlotMachineDriver {
    var machine: SlotMachine
    var nextPid: Int32 = 100
    /// Wall-clock seconds as the machine sees them.
    var now = 1_000.0

    init(file: String = "/plugins/libgreeter.so", crashLimit: Int = 5, crashWindowSeconds: Double = 60) {
        var configuration = Configuration()
        configuration.runDirectory = "/run/berth"
        configuration.crashLimit = crashLimit
        configuration.crashWindowSeconds = crashWindowSeconds
        machine = SlotMachine(file: file, configuration: configuration)
    }

    mutating func feed(_ event: SlotEvent) -> [SlotAction] { machine.handle(event) }

    /// Feeds a scan; `fingerprint` names the version of the file.
    mutating func scan(_ fingerprint: String, instances: Int = 1, forced: Bool = false) -> [SlotAction] {
        feed(.scanned(.readable(number: machine.nextGenerationNumber, fingerprint: fingerprint, instances: instances), forced: forced))
    }

    /// Starts a worker for every spawn action, as the Supervisor would;
    /// returns their pids and what the machine answered.
    mutating func startSpawns(_ actions: [SlotAction]) -> (pids: [Int32], actions: [SlotAction]) {
        var pids: [Int32] = []
        var answers: [SlotAction] = []
        for case .spawn(let generation, let instance) in actions {
            let pid = nextPid
            nextPid += 1
            pids.append(pid)
            answers += feed(.workerStarted(pid: pid, generation: generation, instance: instance))
        }
        return (pids, answers)
    }

    /// The worker loaded and, given a serve action, got its socket.
    mutating func serve(_ pid: Int32, name: String = "greeter", version: String? = "1.0") -> [SlotAction] {
        var actions = feed(.workerLoaded(pid: pid, name: name, problem: nil))
        guard actions.contains(where: { if case .serve(pid, _, name) = $0 { return true } else { return false } }) else { return actions }
        actions += feed(.workerServing(pid: pid, name: name, version: version))
        return actions
    }

    /// Scans a new version and brings every instance up; returns the new
    /// pids and every action along the way.
    mutating func bringUp(_ fingerprint: String, instances: Int = 1, version: String = "1.0", forced: Bool = false) -> (pids: [Int32], actions: [SlotAction]) {
        var actions = scan(fingerprint, instances: instances, forced: forced)
        let started = startSpawns(actions)
        actions += started.actions
        for pid in started.pids { actions += serve(pid, version: version) }
        return (started.pids, actions)
    }

    mutating func exit(_ pid: Int32, _ status: ChildProcess.Exit = .killed(SIGSEGV), breach: LimitBreach? = nil, uptime: Double = 1) -> [SlotAction] {
        feed(.workerExited(pid: pid, WorkerExit(status: status, breach: breach, uptimeSeconds: uptime, now: now)))
    }
}

extension Array where Element == SlotAction {
    var settled: [ReloadOutcome] { compactMap { if case .settled(let outcome) = $0 { return outcome } else { return nil } } }
    var stopped: [Int32] { compactMap { if case .stop(let pid) = $0 { return pid } else { return nil } } }
    var spawned: [Int] { compactMap { if case .spawn(_, let instance) = $0 { return instance } else { return nil } } }
    var restarts: [(instance: Int, delay: Double)] {
        compactMap { if case .scheduleRestart(_, let instance, let delay) = $0 { return (instance, delay) } else { return nil } }
    }
    var errors: [String] { compactMap { if case .log(let line) = $0, line.level == .error { return line.message } else { return nil } } }
    var infos: [String] { compactMap { if case .log(let line) = $0, line.level == .info { return line.message } else { return nil } } }
    var opensUnavailable: Bool { contains { if case .openUnavailable = $0 { return true } else { return false } } }
}
