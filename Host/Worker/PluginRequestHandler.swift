import BerthAuth
import BerthPOSIX
import BerthRouter
import BerthSupport
import BerthWire
import CBerth
import CBerthShims
import Glibc

/// Answers requests by calling the plugin: route, check the token and its
/// scope, build a berth_request pointing into the connection's buffer (no
/// copies), call the handler, count.
final class PluginRequestHandler: RequestHandler {
    private let plugin: LoadedPlugin
    private let router: Router<LoadedPlugin.RouteEntry>
    /// Replaced when the host sends a new tokens file (on reload).
    var tokens: TokenTable
    /// Only these uids may connect (the plugin's allowed_uids); nil: any.
    private let allowedUIDs: [UInt32]?
    private let refusals = LogThrottle(what: "refused-connection")
    private let stats: SharedStats
    private let context = ResponseContext()
    private var parameters: [Range<Int>] = []
    /// The C parameters of the request being called: plain memory reused
    /// for every request, so filling them needs no closure and no array.
    private var cParameters = UnsafeMutableBufferPointer<berth_param>.allocate(capacity: 8)
    private var decodedScratch: [UInt8] = []
    /// Read once here: through the statics, every request paid two
    /// swift_once checks.
    private let hostTable = UnsafePointer(HostAPI.table)
    private let methodNames = MethodNames.table
    /// Answers whose latency is not recorded yet: requests of one read
    /// share its time, so one clock read at the end of the batch times them
    /// all.
    private var untimed = (requests: 0, receivedAt: UInt64(0))

    init(plugin: LoadedPlugin, tokens: TokenTable, allowedUIDs: [UInt32]?, stats: SharedStats) {
        self.plugin = plugin
        router = plugin.router
        self.tokens = tokens
        self.allowedUIDs = allowedUIDs
        self.stats = stats
        parameters.reserveCapacity(8)
    }

    deinit { cParameters.deallocate() }

    func handle(_ request: IncomingRequest, reply: borrowing ReplyContext) {
        // Borrowed, not retained: the router holds its routes and this
        // handler its tokens for the whole call (a reload replaces tokens
        // between requests, never during one).
        let status = Unmanaged.passUnretained(tokens)._withUnsafeGuaranteedRef { tokens in
            guard let route = Admission.admit(request, router: router, tokens: tokens,
                                              parameters: &parameters, reply: reply, service: plugin.name) else { return 400 }
            return Unmanaged.passUnretained(route.target)._withUnsafeGuaranteedRef { call($0, request, reply) }
        }
        // 0: an answer taken for later, counted when it is given.
        if status != 0 { stats.count(failed: status >= 400) }
        if request.receivedAt != untimed.receivedAt {
            finishBatch()
            untimed.receivedAt = request.receivedAt
        }
        untimed.requests += 1
    }

    /// Latency runs from the read that brought a request to the end of its
    /// batch: queueing behind pipelined requests counts.
    func finishBatch() {
        guard untimed.requests > 0 else { return }
        stats.recordLatency(requests: untimed.requests, nanoseconds: Clock.monotonicNanoseconds() &- untimed.receivedAt)
        untimed.requests = 0
    }

    /// Per connection: a client whose uid is not in allowed_uids gets one
    /// error line and is closed before it can send anything to the plugin.
    func refusal(for peer: PeerCredentials) -> Refusal? {
        guard let allowedUIDs, !allowedUIDs.contains(peer.uid) else { return nil }
        refusals.write(.warn, "refused a connection from \(peer): uid \(peer.uid) is not in allowed_uids \(allowedUIDs) of this plugin's settings file; add it there and reload if it should connect", plugin: plugin.name)
        return Refusal(status: 403, code: "peer_not_allowed",
                       message: "uid \(peer.uid) may not use plugin \(plugin.name); its operator can add the uid to allowed_uids in the plugin's settings file")
    }

    private func call(_ route: LoadedPlugin.RouteEntry, _ request: IncomingRequest, _ reply: borrowing ReplyContext) -> Int {
        if parameters.count > cParameters.count {
            cParameters.deallocate()
            cParameters = .allocate(capacity: parameters.count)
        }
        // Parameter values point into the request, percent-decoded only in
        // the rare case one has an escape.
        for (index, range) in parameters.enumerated() {
            let raw = UnsafeBufferPointer(rebasing: request.path[range])
            if raw.contains(UInt8(ascii: "%")) { return callDecoded(route, request, reply) }
            cParameters[index] = berth_param(name: route.parameterNames[index], value: berth_str(raw))
        }
        return invoke(route, request, UnsafeBufferPointer(rebasing: cParameters[0..<parameters.count]), reply)
    }

    /// A request with an escaped parameter: values decoded into a reused
    /// scratch buffer, whose pointers are taken (and used) only inside its
    /// withUnsafeBufferPointer.
    private func callDecoded(_ route: LoadedPlugin.RouteEntry, _ request: IncomingRequest, _ reply: borrowing ReplyContext) -> Int {
        decodedScratch.removeAll(keepingCapacity: true)
        var decodedRanges: [Range<Int>] = []
        for range in parameters {
            let start = decodedScratch.count
            PercentDecoding.decode(UnsafeBufferPointer(rebasing: request.path[range]), into: &decodedScratch)
            decodedRanges.append(start..<decodedScratch.count)
        }
        return decodedScratch.withUnsafeBufferPointer { decoded in
            for (index, range) in decodedRanges.enumerated() {
                cParameters[index] = berth_param(name: route.parameterNames[index], value: berth_str(UnsafeBufferPointer(rebasing: decoded[range])))
            }
            return invoke(route, request, UnsafeBufferPointer(rebasing: cParameters[0..<parameters.count]), reply)
        }
    }

    private func invoke(_ route: LoadedPlugin.RouteEntry, _ request: IncomingRequest, _ params: UnsafeBufferPointer<berth_param>,
                        _ reply: borrowing ReplyContext) -> Int {
        var cRequest = berth_request(
            size: UInt32(MemoryLayout<berth_request>.size),
            method: methodNames[Int(route.method.rawValue)],
            path: berth_str(request.path), query: berth_str(request.query),
            params: params.baseAddress, param_count: params.count,
            body: berth_str(request.data), request_id: berth_str(request.id), headers: berth_str(request.headers),
            host: hostTable,
            host_private: Unmanaged.passUnretained(context).toOpaque(),
            peer_pid: request.peer.pid, peer_uid: request.peer.uid, peer_gid: request.peer.gid,
            caller: berth_str(), traceparent: berth_str(), remaining_ms: 0)
        context.begin(id: request.id, data: request.data, dataSpansLines: request.spansLines, route: route)
        if let watchdog = route.watchdog {
            // While the handler runs, the connection's output is not
            // written: the watchdog may send its unsent part if the handler
            // never returns.
            reply.withUnsentOutput { unsent in
                berth_watchdog_arm(watchdog, unsent.socket, unsent.bytes.baseAddress, unsent.bytes.count,
                                   request.id?.baseAddress, request.id?.count ?? 0)
                route.handler(&cRequest, route.userData)
                berth_watchdog_disarm()
            }
        } else {
            route.handler(&cRequest, route.userData)
        }
        let status = context.end()
        if _slowPath(status == ResponseContext.deferredStatus), let answer = context.takeDeferred() {
            answer.bind(reply.deferReply(), receivedAt: request.receivedAt)
            return 0
        }
        context.handOver(to: reply)
        if status == 0 {
            reply.appendError(status: 500, code: "no_response",
                              message: "plugin \(plugin.name): handler for \(route.label) returned without responding; fix the plugin to call respond or respond_error")
            Log.error("handler for \(route.label) returned without responding (request from \(request.peer))", plugin: plugin.name)
            return 500
        }
        return status
    }
}

extension berth_str {
    init(_ bytes: UnsafeBufferPointer<UInt8>?) {
        self.init(ptr: UnsafeRawPointer(bytes?.baseAddress)?.assumingMemoryBound(to: CChar.self), len: bytes?.count ?? 0)
    }
}

/// Method names as C strings, made once: a request indexes them by method.
private enum MethodNames {
    /// Indexed by HTTPMethod.rawValue.
    nonisolated(unsafe) static let table: [berth_str] = HTTPMethod.allCases.map {
        berth_str(ptr: UnsafePointer(strdup($0.description)), len: $0.description.utf8.count)
    }
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
