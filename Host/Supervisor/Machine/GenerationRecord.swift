/// One generation of a plugin as the slot machine sees it: identified by
/// its number, with the state of each of its workers by pid. The loaded
/// library, settings and metadata live in `Generation`, which the
/// Supervisor keeps beside the machine under the same number.
struct GenerationRecord: Equatable {
    enum State: String {
        /// Workers are loading; nothing serves from this generation yet.
        case loading
        case serving
        /// Replaced or removed: its workers finish in-flight requests and exit.
        case retiring
        /// Did not load, or crashed too often; see `failure`.
        case failed
    }

    let number: Int
    /// Library and settings together: a change in either is an update.
    let fingerprint: String
    /// Workers this generation runs once every instance serves.
    let instances: Int
    var state = State.loading
    var failure: String?
    /// As the last worker that began serving reported it.
    var version: String?
    /// Started and not yet reaped, in the order they started.
    var workers: [WorkerRecord] = []

    init(number: Int, fingerprint: String, instances: Int) {
        self.number = number
        self.fingerprint = fingerprint
        self.instances = instances
    }

    /// Stands for a file that could not even be read on first sight, so
    /// status can show why.
    static func placeholder(number: Int, failure: String) -> GenerationRecord {
        var record = GenerationRecord(number: number, fingerprint: "", instances: 0)
        record.state = .failed
        record.failure = failure
        return record
    }

    /// Serving or about to: a worker of it that reports or exits matters.
    var isLive: Bool { state == .loading || state == .serving }

    var allWorkersServing: Bool {
        workers.count == instances && workers.allSatisfy { $0.phase == .serving }
    }

    func index(of pid: Int32) -> Int? { workers.firstIndex { $0.pid == pid } }
}

/// One worker process as the slot machine sees it.
struct WorkerRecord: Equatable {
    enum Phase {
        /// Started; loading the plugin.
        case loading
        /// Holds the socket and answers requests.
        case serving
        /// Told to finish in-flight requests and exit.
        case stopping
    }

    let pid: Int32
    /// Which of the generation's instances this is (restarts keep it).
    let instance: Int
    var phase = Phase.loading
    /// Sent a changed token table; the reload waits for it to be applied.
    var tokensPending = false
}
