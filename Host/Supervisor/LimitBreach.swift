import BerthPOSIX
import Glibc

/// A limit a worker broke, which is why it ended: the host logs it, status
/// shows it (`last_exit`, `last_limit`), and the restart follows from it.
enum LimitBreach {
    /// A handler ran past its time limit; the worker's watchdog answered 504
    /// and ended the worker (see Worker/Watchdog.swift).
    case timeout(route: String?, milliseconds: Int?)
    case memory(residentBytes: Int, limitMB: Int)
    case cpu(usedSeconds: Double, limitSeconds: Int)
    case openFiles(open: Int, limit: Int)

    /// The exit status of a worker whose watchdog fired (Watchdog.exitCode),
    /// for when its report on the channel was lost.
    static let timeoutExitCode: Int32 = 124

    /// The setting that sets the limit, as status's `last_limit` names it.
    var setting: String {
        switch self {
        case .timeout: return "request_timeout"
        case .memory: return "memory_mb"
        case .cpu: return "cpu_seconds"
        case .openFiles: return "open_files"
        }
    }

    var isTimeout: Bool {
        if case .timeout = self { return true }
        return false
    }

    var description: String {
        switch self {
        case .timeout(let route, let milliseconds):
            let limit = milliseconds.map { " \(Self.seconds($0))" } ?? ""
            return "request \(route ?? "(unknown route)") ran past its\(limit) time limit (the client got 504)"
        case .memory(let resident, let limit):
            return "memory_mb limit broken: resident size \(resident >> 20) MiB, limit \(limit) MiB (killed)"
        case .cpu(let used, let limit):
            return "cpu_seconds limit reached: \((used * 10).rounded() / 10) s of CPU time, limit \(limit) s (killed)"
        case .openFiles(let open, let limit):
            return "open_files limit reached: \(open) descriptors open, limit \(limit) (killed)"
        }
    }

    /// What the operator can do about it, for the log line.
    func hint(settings path: String) -> String {
        switch self {
        case .timeout: return "if the route needs longer, raise route_timeouts or request_timeout_seconds in \(path)"
        case .memory: return "if the plugin needs more, raise limits.memory_mb in \(path)"
        case .cpu: return "if the plugin needs more, raise limits.cpu_seconds in \(path)"
        case .openFiles: return "raise limits.open_files in \(path), or find what keeps descriptors open"
        }
    }

    /// "2 s", "0.25 s".
    static func seconds(_ milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }
}
