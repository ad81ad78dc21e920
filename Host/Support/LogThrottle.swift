import BerthPOSIX

/// Bounds the log lines a client can make a server write (a client may send
/// wrong tokens as fast as it likes): in each second at most `perSecond`
/// lines and `bytesPerSecond` bytes of them. The rest are counted, and the
/// count is logged once the second ends, by a timer on the process's event
/// loop (`LogThrottle.loop`), so a burst that ends inside a second still
/// leaves a trace; without a loop, by the next line that gets through.
public final class LogThrottle {
    /// The event loop of this process (host and workers each run one),
    /// which flushes suppressed counts. Set where the loop is made.
    public nonisolated(unsafe) static weak var loop: EventLoop?

    public static let defaultLinesPerSecond = 10
    /// Ten lines of a few hundred bytes: what values cut by LogValue make.
    public static let defaultBytesPerSecond = 8192

    private let perSecond: Int
    private let bytesPerSecond: Int
    /// What the lines are about, for the line that counts the suppressed ones.
    private let what: String
    private var windowStart: UInt64 = 0
    private var written = 0
    private var writtenBytes = 0
    private var suppressed = 0
    /// Level and plugin of the last suppressed line, which its count reuses.
    private var suppressedLevel = Log.Level.warn
    private var suppressedPlugin: String?
    private var flushArmed = false

    public init(what: String, perSecond: Int = defaultLinesPerSecond, bytesPerSecond: Int = defaultBytesPerSecond) {
        self.what = what
        self.perSecond = perSecond
        self.bytesPerSecond = bytesPerSecond
    }

    public func write(_ level: Log.Level, _ message: @autoclosure () -> String, plugin: String?) {
        let now = Clock.monotonicNanoseconds()
        if now &- windowStart >= 1_000_000_000 {
            flushSuppressed()
            windowStart = now
            written = 0
            writtenBytes = 0
        }
        guard written < perSecond else { return suppress(level, plugin) }
        let text = message()
        guard writtenBytes + text.utf8.count <= bytesPerSecond || written == 0 else { return suppress(level, plugin) }
        written += 1
        writtenBytes += text.utf8.count
        Log.write(level, text, plugin)
    }

    private func suppress(_ level: Log.Level, _ plugin: String?) {
        suppressed += 1
        suppressedLevel = level
        suppressedPlugin = plugin
        if !flushArmed { armFlush() }
    }

    /// A timer at the end of the current second that logs the count; if a
    /// line started a new second meanwhile (and logged the count), it waits
    /// for the end of that one.
    private func armFlush() {
        guard let loop = LogThrottle.loop else { return }
        flushArmed = true
        let windowEnd = windowStart &+ 1_000_000_000
        let delay = Double(windowEnd &- min(windowEnd, Clock.monotonicNanoseconds())) / 1e9
        loop.schedule(afterSeconds: delay) { [weak self] in
            guard let self else { return }
            self.flushArmed = false
            guard self.suppressed > 0 else { return }
            if Clock.monotonicNanoseconds() &- self.windowStart >= 1_000_000_000 {
                self.flushSuppressed()
            } else {
                self.armFlush()
            }
        }
    }

    private func flushSuppressed() {
        guard suppressed > 0 else { return }
        Log.write(suppressedLevel, "\(suppressed) similar line(s) suppressed: \(what) lines are logged at most \(perSecond) lines and \(bytesPerSecond) bytes a second", suppressedPlugin)
        suppressed = 0
    }
}
