import BerthPOSIX
import BerthSupport

/// Idle and request timeouts without a timer, a clock read or a syscall per
/// connection or request: a few times a second, one pass over the
/// connections compares what each did since the previous pass (its answer
/// count, how much of its output was sent, and the clock value its reads
/// already record).
///
/// A timeout fires at the first pass after it expired: never early, and at
/// most two intervals late.
struct ConnectionSweep {
    enum Verdict { case keep, idle, requestTimedOut }

    private let idle: UInt64
    private let request: UInt64
    private let maxPendingOutput: Int
    /// Seconds between passes: a quarter of the shortest timeout, at most 1.
    let interval: Double

    init(_ limits: LineServer.Limits) {
        idle = UInt64(limits.idleTimeout * 1e9)
        request = UInt64(limits.readTimeout * 1e9)
        maxPendingOutput = limits.maxPendingOutput
        let shortest = [limits.idleTimeout, limits.readTimeout].filter { $0 > 0 }.min() ?? 4
        interval = max(0.05, min(1, shortest / 4))
    }

    func check(_ connection: Connection, now: UInt64) -> Verdict {
        if connection.awaitingReply {
            // The handler's time, not the client's: count afresh once it answers.
            connection.progressAt = 0
            connection.requestSince = 0
            return .keep
        }
        let answeredMore = connection.answered != connection.sweepAnswered
        if answeredMore || connection.outputSent != connection.sweepSent || connection.progressAt == 0 {
            connection.progressAt = now
        }
        // A read is progress only if it left part of a request to finish:
        // blank lines, which are read and dropped, are no traffic, or a
        // client could hold a connection (a control socket slot) forever
        // with a newline now and then and never a request.
        if connection.input.count > 0 {
            connection.progressAt = max(connection.progressAt, connection.receivedAt)
        }
        connection.sweepAnswered = connection.answered
        connection.sweepSent = connection.outputSent

        // A request is being read: part of one is buffered while the server
        // reads (a client that does not read its answers is not reading a
        // request; the idle timeout covers it).
        if request > 0, connection.input.count > 0, !connection.closeAfterFlush,
           connection.pendingOutput < maxPendingOutput {
            if connection.requestSince == 0 || answeredMore {
                connection.requestSince = now
            } else if now - connection.requestSince >= request {
                return .requestTimedOut
            }
        } else {
            connection.requestSince = 0
        }
        if idle > 0 && now - connection.progressAt >= idle { return .idle }
        return .keep
    }
}

/// What happened to connections between two passes, logged by the second:
/// one line per kind, however many clients misbehave.
struct SweepReport {
    var timedOut = 0
    var closedIdle = 0
    var refused = 0
    var refusedForDescriptors = 0
    var refusedForBufferedInput = 0

    func log(_ limits: LineServer.Limits, name: String?) {
        if timedOut > 0 {
            Log.warn("answered 408 read_timeout to \(timedOut) connection(s) whose request was not complete within \(Self.seconds(limits.readTimeout)), and closed them; if those clients are merely slow, raise --read-timeout (or read_timeout in the plugin's settings)", plugin: name)
        }
        if closedIdle > 0 {
            Log.debug("closed \(closedIdle) connection(s) idle for \(Self.seconds(limits.idleTimeout))", plugin: name)
        }
        if refused > 0 && name == nil {
            Log.warn("refused \(refused) connection(s) to the control socket with 503 too_many_connections: already serving \(limits.maxConnections), its fixed limit; find the clients that hold connections to it open", plugin: name)
        } else if refused > 0 {
            Log.warn("refused \(refused) connection(s) with 503 too_many_connections: already serving \(limits.maxConnections), the limit; raise --max-connections (or max_connections in the plugin's settings), or have clients reuse connections", plugin: name)
        }
        if refusedForBufferedInput > 0 {
            Log.warn("answered 503 input_buffers_full to \(refusedForBufferedInput) connection(s) and closed them: the connections held \(limits.maxBufferedInput >> 20) MiB of unfinished requests, the limit for all of them together (--max-buffered-input-mb, or max_buffered_input_mb in the plugin's settings); many clients are sending large requests slowly, or not finishing them", plugin: name)
        }
        if refusedForDescriptors > 0 {
            Log.error("refused \(refusedForDescriptors) connection(s) with 503 too_many_connections: out of file descriptors; raise the open-file hard limit (LimitNOFILE= under systemd, ulimit -Hn) or lower max_connections", plugin: name)
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
