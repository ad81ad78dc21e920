/// Reloads never overlap: one asked for while another runs waits, and all
/// that waited are merged into a single run after it (a burst of SIGHUPs
/// is one more reload, not many).
struct ReloadQueue {
    /// A run is under way.
    private(set) var isRunning = false
    private(set) var waiting: [ReloadRequest] = []

    /// The run to begin now, or nil when the request has to wait.
    mutating func ask(_ request: ReloadRequest) -> ReloadRun? {
        if isRunning {
            waiting.append(request)
            return nil
        }
        isRunning = true
        return ReloadRun([request])
    }

    /// The run ended: the requests that waited, as one run, or nil when
    /// none did.
    mutating func runEnded() -> ReloadRun? {
        guard !waiting.isEmpty else {
            isRunning = false
            return nil
        }
        defer { waiting.removeAll() }
        return ReloadRun(waiting)
    }
}
