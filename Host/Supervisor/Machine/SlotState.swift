/// A plugin slot's state as `berth status` prints it.
public enum SlotState: String, Sendable, CaseIterable {
    /// The first generation (or one replacing a failed one) is loading.
    case starting
    /// Every instance of the current generation serves.
    case running
    /// The current generation serves while a new one loads beside it.
    case reloading
    /// The current generation serves with an instance down (restarting).
    case restarting
    /// Did not load, or crashed too often; left down until its file
    /// changes or `berth restart`.
    case failed
    /// The host is stopping, or the generation is going away.
    case stopping
    /// Its file is gone; its workers drain and exit.
    case removed
}

extension SlotMachine {
    var state: SlotState {
        switch lifecycle {
        case .stopping: return .stopping
        case .removed: return .removed
        case .active: break
        }
        guard let current else { return .starting }
        switch current.state {
        case .loading: return .starting
        case .failed: return .failed
        case .retiring: return .stopping
        case .serving:
            guard current.allWorkersServing else { return .restarting }
            return candidate == nil ? .running : .reloading
        }
    }

    /// Why the current generation is down, when it is.
    var error: String? { current?.state == .failed ? current?.failure : nil }
}
