import BerthPOSIX
import BerthRouter
import BerthWire
import CBerth
import CBerthShims
import Glibc

/// Answers requests by calling the plugin: route, check the token, build a
/// berth_request pointing into the connection's buffer (no copies), call the
/// handler, count.
final class PluginRequestHandler: RequestHandler {
    private let plugin: LoadedPlugin
    private let router: Router<LoadedPlugin.RouteEntry>
    private let token: AuthToken
    private let stats: SharedStats
    private let context = ResponseContext()
    private var parameters: [Range<Int>] = []
    private var cParameters: [berth_param] = []
    private var decodedScratch: [UInt8] = []
    private var decodedRanges: [Range<Int>?] = []
    /// Answers not yet counted in the stats: requests of one read share
    /// its time, so one clock read at the end of the batch times them all.
    private var uncounted = (requests: 0, failed: 0, receivedAt: UInt64(0))

    init(plugin: LoadedPlugin, token: AuthToken, stats: SharedStats) throws {
        var router = Router<LoadedPlugin.RouteEntry>()
        for route in plugin.routes {
            do {
                try router.add(route.method, route.pattern, route)
            } catch {
                throw PluginLoader.Failure(description: "plugin \(plugin.name): \(error)")
            }
        }
        self.plugin = plugin
        self.router = router
        self.token = token
        self.stats = stats
        parameters.reserveCapacity(8)
        cParameters.reserveCapacity(8)
    }

    func handle(_ request: Request, into output: inout [UInt8]) {
        let status: Int
        if let route = Gate.admit(request, router: router, token: token, isPublic: { $0.isPublic },
                                  parameters: &parameters, output: &output, service: plugin.name) {
            status = call(route.target, request, &output)
        } else {
            status = 400
        }
        if request.receivedAt != uncounted.receivedAt {
            finishBatch()
            uncounted.receivedAt = request.receivedAt
        }
        uncounted.requests += 1
        if status >= 400 { uncounted.failed += 1 }
    }

    /// Latency runs from the read that brought a request to the end of its
    /// batch: queueing behind pipelined requests counts.
    func finishBatch() {
        guard uncounted.requests > 0 else { return }
        stats.record(requests: uncounted.requests, failed: uncounted.failed,
                     nanoseconds: Clock.monotonicNanoseconds() &- uncounted.receivedAt)
        uncounted.requests = 0
        uncounted.failed = 0
    }

    private func call(_ route: LoadedPlugin.RouteEntry, _ request: Request, _ output: inout [UInt8]) -> Int {
        // Parameter values are percent-decoded. The rare encoded one is
        // decoded into a reused scratch buffer; the rest point into the
        // request. Pointers into the scratch are taken only inside its
        // withUnsafeBufferPointer, so they stay valid for the whole call.
        decodedScratch.removeAll(keepingCapacity: true)
        decodedRanges.removeAll(keepingCapacity: true)
        for range in parameters {
            let raw = UnsafeBufferPointer(rebasing: request.path[range])
            if raw.contains(UInt8(ascii: "%")) {
                let start = decodedScratch.count
                PercentDecoding.decode(raw, into: &decodedScratch)
                decodedRanges.append(start..<decodedScratch.count)
            } else {
                decodedRanges.append(nil)
            }
        }
        return decodedScratch.withUnsafeBufferPointer { decoded in
            cParameters.removeAll(keepingCapacity: true)
            for (index, range) in parameters.enumerated() {
                let value = decodedRanges[index].map { berth_str(UnsafeBufferPointer(rebasing: decoded[$0])) }
                    ?? berth_str(UnsafeBufferPointer(rebasing: request.path[range]))
                cParameters.append(berth_param(name: route.parameterNames[index], value: value))
            }
            return cParameters.withUnsafeBufferPointer { params in
                withUnsafeMutablePointer(to: &output) { out in
                    var cRequest = berth_request(
                        size: UInt32(MemoryLayout<berth_request>.size),
                        method: MethodNames.cString(route.method),
                        path: berth_str(request.path), query: berth_str(request.query),
                        params: params.baseAddress, param_count: params.count,
                        body: berth_str(request.data), request_id: berth_str(request.id), headers: berth_str(request.headers),
                        host: UnsafePointer(HostAPI.table),
                        host_private: Unmanaged.passUnretained(context).toOpaque(),
                        peer_pid: 0, peer_uid: UInt32.max, peer_gid: UInt32.max)
                    context.begin(id: request.id, data: request.data, route: route.label)
                    if let watchdog = route.watchdog {
                        // While the handler runs, `out` is not written: the
                        // watchdog may send its unsent part if it never returns.
                        out.pointee.withUnsafeBufferPointer { queued in
                            let sent = min(request.outputSent, queued.count)
                            berth_watchdog_arm(watchdog, request.connection, queued.baseAddress.map { $0 + sent }, queued.count - sent,
                                               request.id?.baseAddress, request.id?.count ?? 0)
                            route.handler(&cRequest, route.userData)
                            berth_watchdog_disarm()
                        }
                    } else {
                        route.handler(&cRequest, route.userData)
                    }
                    let status = context.end()
                    out.pointee.append(contentsOf: context.line.pointee)
                    if status == 0 {
                        ResponseWriter.appendError(&out.pointee, id: request.id, status: 500, code: "no_response",
                                                   message: "plugin \(plugin.name): handler for \(route.label) returned without responding; fix the plugin to call respond or respond_error")
                        Log.error("handler for \(route.label) returned without responding", plugin: plugin.name)
                        return 500
                    }
                    return status
                }
            }
        }
    }
}

extension berth_str {
    init(_ bytes: UnsafeBufferPointer<UInt8>?) {
        self.init(ptr: UnsafeRawPointer(bytes?.baseAddress)?.assumingMemoryBound(to: CChar.self), len: bytes?.count ?? 0)
    }
}

/// Method names as C strings, made once: a request indexes them by method.
private enum MethodNames {
    nonisolated(unsafe) static let table: [berth_str] = HTTPMethod.allCases.map {
        berth_str(ptr: UnsafePointer(strdup($0.description)), len: $0.description.utf8.count)
    }

    @inline(__always)
    static func cString(_ method: HTTPMethod) -> berth_str { table[Int(method.rawValue)] }
}

/// %XX escapes in path parameters; a malformed escape stays as it is.
enum PercentDecoding {
    static func decode(_ raw: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "%"), i + 2 < raw.count,
               let high = hex(raw[i + 1]), let low = hex(raw[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(raw[i])
                i += 1
            }
        }
    }
}
