/// When to restart a crashed worker: exponential backoff from 100 ms,
/// doubling to 30 s, forgotten after a minute of stable running, so a
/// plugin that crashes on every request cannot make the host spin.
public struct RestartPolicy {
    public var initialDelay = 0.1
    public var maximumDelay = 30.0
    public var stableAfter = 60.0

    private(set) var consecutiveCrashes = 0

    public init() {}

    /// Records a crash of a worker that ran `uptime` seconds; returns the
    /// delay before the next start.
    public mutating func delayAfterCrash(uptime: Double) -> Double {
        if uptime >= stableAfter { consecutiveCrashes = 0 }
        consecutiveCrashes += 1
        var delay = initialDelay
        for _ in 1..<consecutiveCrashes where delay < maximumDelay { delay *= 2 }
        return min(delay, maximumDelay)
    }
}
