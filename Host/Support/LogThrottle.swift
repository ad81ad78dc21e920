import BerthPOSIX
/// Bounds the log lines a client can make a server write (a client may send
/// wrong tokens as fast as it likes): at most `perSecond` lines in each
/// second; the rest are counted and reported by the next line written.
public struct LogThrottle {
    private let perSecond: Int
    private var windowStart: UInt64 = 0
    private var written = 0
    private var suppressed = 0

    public init(perSecond: Int = 10) { self.perSecond = perSecond }

    public mutating func write(_ level: Log.Level, _ message: @autoclosure () -> String, plugin: String?) {
        let now = Clock.monotonicNanoseconds()
        if now &- windowStart >= 1_000_000_000 {
            windowStart = now
            written = 0
        }
        guard written < perSecond else {
            suppressed += 1
            return
        }
        written += 1
        let note = suppressed > 0 ? " (\(suppressed) similar line(s) suppressed before this one)" : ""
        suppressed = 0
        Log.write(level, message() + note, plugin)
    }
}
