import BerthJSON
import BerthPOSIX
import Glibc

/// One line per event on stderr: time, level, plugin (or "berth"), message.
/// Host and workers share stderr, so every line is written with one write(2)
/// and lines from different processes never interleave mid-line.
public enum Log {
    public enum Level: String, Comparable {
        case debug, info, warn, error
        var rank: Int { [.debug: 0, .info: 1, .warn: 2, .error: 3][self]! }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    public enum Format: String { case text, json }

    public nonisolated(unsafe) static var format: Format = .text
    public nonisolated(unsafe) static var minimumLevel: Level = .info
    /// Who is logging when no plugin is named: "berth" in the host.
    public nonisolated(unsafe) static var source = "berth"
    /// The trace of the request (or call) being handled, set by a worker
    /// around a handler and the callbacks that serve a deferred request:
    /// JSON lines written meanwhile carry its trace_id and span_id.
    public nonisolated(unsafe) static var trace: TraceContext?

    public static func debug(_ message: @autoclosure () -> String, plugin: String? = nil) { write(.debug, message(), plugin) }
    public static func info(_ message: @autoclosure () -> String, plugin: String? = nil) { write(.info, message(), plugin) }
    public static func warn(_ message: @autoclosure () -> String, plugin: String? = nil) { write(.warn, message(), plugin) }
    public static func error(_ message: @autoclosure () -> String, plugin: String? = nil) { write(.error, message(), plugin) }

    public static func write(_ level: Level, _ message: String, _ plugin: String?) {
        guard level >= minimumLevel else { return }
        let who = plugin ?? source
        let line: String
        switch format {
        case .text:
            let tag = level.rawValue.uppercased()
            line = "\(Clock.iso8601()) \(tag)\(String(repeating: " ", count: 5 - tag.count)) [\(who)] \(message)\n"
        case .json:
            let traced = trace.map { ",\"trace_id\":\"\($0.traceIDHex)\",\"span_id\":\"\($0.spanIDHex)\"" } ?? ""
            line = "{\"time\":\"\(Clock.iso8601())\",\"level\":\"\(level.rawValue)\",\"plugin\":\(JSONText.quote(who)),"
                + "\"pid\":\(getpid())\(traced),\"message\":\(JSONText.quote(message))}\n"
        }
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
