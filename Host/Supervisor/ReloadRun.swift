/// One reload in progress. It does not look at slots: each slot it touched
/// reports its outcome once (the machine's `settled` action), and the run
/// is over when every one has and the scan itself has finished.
struct ReloadRun {
    let requests: [ReloadRequest]
    /// Failures of the run as a whole (the tokens file, the plugins folder),
    /// reported first.
    var runFailures: [(String, String)] = []
    /// True while the folder is being scanned: slots that settle at once
    /// must not end the run before the rest are touched.
    var scanning = true
    /// Touched slots by serial, in the order touched, with their outcome.
    private var entries: [(slot: Int, file: String, outcome: ReloadOutcome?, servingVersion: String?)] = []

    init(_ requests: [ReloadRequest]) {
        self.requests = requests
    }

    /// The start of the host, not a reload: nothing is announced.
    var isStart: Bool { requests.contains(where: \.isStart) }

    /// Files to start afresh even if unchanged.
    var forced: Set<String> { requests.reduce(into: Set()) { $0.formUnion($1.restartOnly ?? []) } }

    /// Only restarts were asked for: leave every other file alone.
    var restartsOnly: Bool { requests.allSatisfy { $0.restartOnly != nil } }

    var reasons: String {
        var seen: [String] = []
        for request in requests where !seen.contains(request.reason) { seen.append(request.reason) }
        return seen.joined(separator: ", ")
    }

    mutating func touched(slot: Int, file: String) {
        entries.append((slot, file, nil, nil))
    }

    /// `servingVersion`: the version the slot serves as it settles, so a
    /// failed file can say that the old version keeps serving.
    mutating func settled(slot: Int, _ outcome: ReloadOutcome, servingVersion: String? = nil) {
        guard let index = entries.firstIndex(where: { $0.slot == slot && $0.outcome == nil }) else { return }
        entries[index].outcome = outcome
        entries[index].servingVersion = servingVersion
    }

    var isComplete: Bool { !scanning && entries.allSatisfy { $0.outcome != nil } }

    /// As the report has always read: run failures, then what was decided
    /// at scan time (unchanged, unreadable), then what the run started
    /// (added, updated, removed, failed), each in the order touched.
    var report: ReloadReport {
        var report = ReloadReport()
        report.failed = runFailures
        for entry in entries {
            switch entry.outcome {
            case .unchanged: report.unchanged.append(entry.file)
            case .notReloaded(let reason):
                report.failed.append((entry.file, reason))
                report.servingAfterFailure[entry.file] = .some(entry.servingVersion)
            default: break
            }
        }
        for entry in entries {
            switch entry.outcome {
            case .added: report.added.append(entry.file)
            case .updated: report.updated.append(entry.file)
            case .retried: report.retried.append(entry.file)
            case .removed: report.removed.append(entry.file)
            case .failed(let reason):
                report.failed.append((entry.file, reason))
                report.servingAfterFailure[entry.file] = .some(entry.servingVersion)
            default: break
            }
        }
        return report
    }
}
