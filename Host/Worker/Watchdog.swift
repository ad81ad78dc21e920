import BerthChannel
import BerthPOSIX
import BerthWire
import CBerthShims
import Glibc

/// Handler time limits (Shims/watchdog.c does the watching). Each route's
/// limit is resolved once when the worker starts serving, most specific
/// first:
///   1. `route_timeouts` in the plugin's settings ("GET /slow": 2);
///   2. the route's own `timeout_ms` (berth_route_policy, `timeout:` in Swift);
///   3. `request_timeout_seconds` in the settings, else `berth serve
///      --request-timeout` (30 s).
/// 0 at the step that decides means no limit for that route.
enum Watchdog {
    /// The status a worker exits with after answering 504 (as timeout(1)).
    static let exitCode: Int32 = 124

    /// Gives every route its limit and starts the watchdog thread if any
    /// route has one. `timeouts` come with the host's serve message.
    static func prepare(_ plugin: LoadedPlugin, timeouts: HandlerTimeouts, channel: FileDescriptor) throws {
        let pluginWide = timeouts.requestMilliseconds
        var configured: [String: UInt32] = [:]
        for entry in timeouts.routeMilliseconds { configured[entry.route] = entry.milliseconds }
        var shortest = UInt32.max
        for route in plugin.routes {
            let limit = configured[route.label] ?? (route.timeoutMilliseconds != 0 ? route.timeoutMilliseconds : pluginWide)
            guard limit > 0 else { continue }
            route.watchdog = UnsafePointer(try make(plugin: plugin.name, route: route.label, milliseconds: limit))
            shortest = min(shortest, limit)
        }
        guard shortest != UInt32.max else { return }
        // Wakes often enough to be at most a tenth late on the shortest
        // limit, but never more than 10 times a second.
        let tick = min(100, max(5, shortest / 10))
        let rc = berth_watchdog_start(tick, channel.rawValue, exitCode)
        if rc != 0 { throw Errno(rc, "pthread_create(watchdog)") }
    }

    /// "2 s", "0.25 s": limits as people write them in the settings.
    static func seconds(_ milliseconds: UInt32) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// The route's 504 and report, made once and kept for the process's life.
    private static func make(plugin: String, route: String, milliseconds: UInt32) throws -> UnsafeMutablePointer<berth_watchdog_route> {
        let message = "plugin \(plugin): \(route) ran past its \(seconds(milliseconds)) time limit, so its worker was stopped and replaced; make the handler return sooner, or raise the limit (route_timeouts or request_timeout_seconds in the plugin's settings)"
        var tail: [UInt8] = []
        ResponseWriter.appendError(&tail, id: nil, status: 504, code: "timeout", message: message)
        // appendError wrote {"id":null,...}; the watchdog writes the id itself.
        let prefix = Array(#"{"id":null"#.utf8)
        tail.removeFirst(prefix.count)
        let report = try timeoutReport(route: route, milliseconds: milliseconds)
        let entry = UnsafeMutablePointer<berth_watchdog_route>.allocate(capacity: 1)
        entry.initialize(to: berth_watchdog_route(timeout_ms: milliseconds, answer_tail: copy(tail), answer_tail_len: tail.count,
                                                  report: copy(report), report_len: report.count))
        return entry
    }

    /// The timeout report as one datagram: the watchdog thread sends it
    /// with a single send(2) just before the worker exits. A route label too
    /// long for one datagram (a pattern of tens of kilobytes) is shortened
    /// in the report, and says so.
    static func timeoutReport(route: String, milliseconds: UInt32) throws -> [UInt8] {
        let whole = try ChannelCodec.datagrams(WorkerMessage.timeout(route: route, limitMilliseconds: milliseconds))
        if whole.count == 1 { return whole[0] }
        let shortened = "\(route.prefix(1024))... (\(route.utf8.count) bytes in all)"
        return try ChannelCodec.datagrams(WorkerMessage.timeout(route: shortened, limitMilliseconds: milliseconds))[0]
    }

    private static func copy(_ bytes: [UInt8]) -> UnsafePointer<CChar> {
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
        bytes.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(storage).copyMemory(from: raw.baseAddress ?? UnsafeRawPointer(storage), byteCount: bytes.count)
        }
        return UnsafePointer(storage)
    }
}
