import BerthJSON
import BerthPOSIX
import BerthSupport
import BerthWire
import CBerth
import Glibc

/// The function table a worker hands its plugin (berth_host_api). The
/// functions find the request being answered through `host_private`.
enum HostAPI {
    /// Bytes of a message a plugin logs through `log` kept before it is
    /// cut (docs/plugins.md).
    static let maximumLogMessageBytes = 4096

    /// The plugin's name, for log lines it writes through `log`.
    nonisolated(unsafe) static var pluginName = "plugin"
    /// The last error the plugin logged, quoted when its init fails.
    nonisolated(unsafe) static var lastLoggedError: String?

    nonisolated(unsafe) static let table: UnsafeMutablePointer<berth_host_api> = {
        let table = UnsafeMutablePointer<berth_host_api>.allocate(capacity: 1)
        table.initialize(to: berth_host_api(
            magic: BERTH_PLUGIN_MAGIC, abi_major: UInt16(BERTH_ABI_MAJOR), abi_minor: UInt16(BERTH_ABI_MINOR),
            size: UInt32(MemoryLayout<berth_host_api>.size),
            respond: { request, status, json, length in
                ResponseContext.with(request) {
                    $0.respond(status: Int(status), body: UnsafeRawBufferPointer(start: json, count: json == nil ? 0 : length))
                }
            },
            respond_error: { request, status, code, message in
                ResponseContext.with(request) {
                    $0.respondError(status: Int(status), code: code.map { String(cString: $0) } ?? "error",
                                    message: message.map { String(cString: $0) } ?? "")
                }
            },
            log: { level, message in
                // A plugin often logs what a client sent: escaped and cut
                // like every logged value, so it cannot forge a host line.
                let text = message.map { LogValue.escaped(String(cString: $0), limit: HostAPI.maximumLogMessageBytes) } ?? ""
                switch level {
                case BERTH_LOG_DEBUG: Log.debug(text, plugin: HostAPI.pluginName)
                case BERTH_LOG_INFO: Log.info(text, plugin: HostAPI.pluginName)
                case BERTH_LOG_WARN: Log.warn(text, plugin: HostAPI.pluginName)
                default:
                    HostAPI.lastLoggedError = text
                    Log.error(text, plugin: HostAPI.pluginName)
                }
            },
            defer: { request in
                guard HostAPI.onLoopThread("defer") else { return nil }
                var handle: OpaquePointer?
                ResponseContext.with(request) { handle = $0.takeForLater() }
                return handle
            },
            deferred_respond: { handle, status, json, length in
                DeferredAnswer.answer(handle, "deferred_respond") {
                    $0.respond(status: Int(status), body: UnsafeRawBufferPointer(start: json, count: json == nil ? 0 : length))
                }
            },
            deferred_respond_error: { handle, status, code, message in
                DeferredAnswer.answer(handle, "deferred_respond_error") {
                    $0.respondError(status: Int(status), code: code.map { String(cString: $0) } ?? "error",
                                    message: message.map { String(cString: $0) } ?? "")
                }
            },
            after: { milliseconds, callback, userData in
                guard HostAPI.onLoopThread("after") else { return 1 }
                guard let loop = HostAPI.loop, let callback else {
                    Log.warn("after called \(callback == nil ? "without a callback" : "before the worker serves (in init)"); refused", plugin: HostAPI.pluginName)
                    return 1
                }
                loop.schedule(afterSeconds: Double(milliseconds) / 1000) { callback(userData) }
                return 0
            },
            post: nil,
            call: nil))
        return table
    }()

    /// The thread that loads the plugin and runs its loop: the only one
    /// that may call host functions.
    nonisolated(unsafe) static var loopThread = pthread_self()
    /// The worker's loop once it serves (`after`, deferred time limits).
    nonisolated(unsafe) static var loop: EventLoop?
    /// Counts deferred answers when they are given.
    nonisolated(unsafe) static var stats: SharedStats?

    /// Offers a plugin only the members of the ABI it was built for: one
    /// built before 1.2 gets a table whose size ends before `defer`.
    static func offer(toMinor minor: UInt16) {
        loopThread = pthread_self()
        if minor < 2, let end = MemoryLayout<berth_host_api>.offset(of: \berth_host_api.`defer`) {
            table.pointee.size = UInt32(end)
        }
    }

    static func onLoopThread(_ function: String) -> Bool {
        if pthread_equal(pthread_self(), loopThread) != 0 { return true }
        Log.error("\(function) called from a thread the plugin started; refused: call host functions only on the worker's loop thread (in a handler or an after callback)", plugin: pluginName)
        return false
    }
}

/// A request's answer taken for later (berth_host_api.defer): the handle a
/// plugin holds, retained for it until its one answer. Answers go through
/// the connection's DeferredReply, so pipelined answers keep their order.
final class DeferredAnswer {
    private let route: String
    /// The route's time limit in milliseconds, 0 for none.
    private let limit: UInt32
    private var reply: DeferredReply?
    /// An answer given before the handler returned, sent once it has.
    private var early: ((DeferredReply) -> Void)?
    private var timer: EventLoop.TimerID?
    private var expired = false
    /// What calls made for this request inherit (deadline, hops, trace).
    var context = CallContext()

    init(route: String, limit: UInt32) {
        self.route = route
        self.limit = limit
    }

    /// After the handler returned: the answer goes to `reply`, and the
    /// route's time limit, counted from `receivedAt`, runs on the loop.
    func bind(_ reply: DeferredReply, receivedAt: UInt64) {
        self.reply = reply
        if let early {
            self.early = nil
            return early(reply)
        }
        guard limit > 0, let loop = HostAPI.loop else { return }
        let deadline = receivedAt &+ UInt64(limit) * 1_000_000
        let now = Clock.monotonicNanoseconds()
        let remaining = deadline > now ? Double(deadline - now) / 1e9 : 0
        timer = loop.schedule(afterSeconds: remaining) { [self] in expire() }
    }

    private func expire() {
        timer = nil
        guard !expired, let reply else { return }
        expired = true
        reply.fail(status: 504, code: "timeout",
                   message: "plugin \(HostAPI.pluginName): \(route) did not give its deferred answer within its \(Watchdog.seconds(limit)) time limit; make the plugin answer sooner, or raise the limit (route_timeouts or request_timeout_seconds in the plugin's settings)")
        HostAPI.stats?.count(failed: true)
        Log.warn("\(route): deferred answer not given within its \(Watchdog.seconds(limit)) time limit; the caller got 504 timeout (the worker goes on)", plugin: HostAPI.pluginName)
    }

    /// deferred_respond(_error): on the loop thread, frees the handle.
    static func answer(_ handle: OpaquePointer?, _ function: String, _ body: (DeferredAnswer) -> Int32) -> Int32 {
        guard let handle else {
            Log.warn("\(function) called with a NULL handle; ignored", plugin: HostAPI.pluginName)
            return 1
        }
        guard HostAPI.onLoopThread(function) else { return 1 }
        let answer = Unmanaged<DeferredAnswer>.fromOpaque(UnsafeRawPointer(handle)).takeRetainedValue()
        return body(answer)
    }

    private func send(failed: Bool, _ write: @escaping (DeferredReply) -> Void) -> Int32 {
        if expired {
            Log.warn("\(route): a deferred answer came after its \(Watchdog.seconds(limit)) time limit, when the caller had got 504; ignored", plugin: HostAPI.pluginName)
            return 1
        }
        if let timer { HostAPI.loop?.cancel(timer) }
        timer = nil
        HostAPI.stats?.count(failed: failed)
        if let reply { write(reply) } else { early = write }
        return 0
    }

    func respond(status: Int, body: UnsafeRawBufferPointer) -> Int32 {
        guard (100...599).contains(status) else { return badStatus(status) }
        var bytes = [UInt8](body)
        if !body.isEmpty {
            switch JSONValidator.check(body) {
            case .valid(let lines):
                if lines { bytes = bytes.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 } }
            case .invalid(let offset, let reason):
                Log.error("deferred answer to \(route) has a body that is not valid JSON (byte \(offset) of \(body.count): \(reason)); the client got 502 invalid_response; fix the plugin to pass deferred_respond one JSON value", plugin: HostAPI.pluginName)
                let message = "plugin \(HostAPI.pluginName) answered \(route) with a body that is not valid JSON (byte \(offset): \(reason)); the plugin must pass respond one JSON value"
                return send(failed: true) { $0.fail(status: 502, code: "invalid_response", message: message) }
            }
        }
        return send(failed: status >= 400) { [bytes] in $0.succeed(status: status, body: bytes) }
    }

    func respondError(status: Int, code: String, message: String) -> Int32 {
        guard (100...599).contains(status) else { return badStatus(status) }
        return send(failed: status >= 400) { $0.fail(status: status, code: code, message: message) }
    }

    private func badStatus(_ status: Int) -> Int32 {
        let message = "plugin \(HostAPI.pluginName) answered \(route) with status \(status); statuses must be 100-599"
        return send(failed: true) { $0.fail(status: 500, code: "bad_status", message: message) }
    }
}

/// The answer to the request being handled. One per worker, reused for
/// every request (handlers run one at a time).
///
/// The handler's answer is written into `line`, not into the connection's
/// output: the caller appends it after the handler returns. So while a
/// handler runs the connection's queued output stays untouched at a stable
/// address, where the watchdog can send it if the handler never returns,
/// and a body that is not JSON is replaced by a 502 before it reaches the
/// client.
final class ResponseContext {
    /// The answer line: plain memory, written with memcpy. An Array here
    /// cost about 300 instructions per answer in its appends and clearing.
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity = 4096
    private var length = 0
    var line: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: storage, count: length) }
    /// An answer line longer than `largestKept`, written here instead of
    /// into `storage` and handed to the connection whole (`handOver`), so
    /// a large answer costs one copy of the body and none of its memory
    /// stays in the worker after it is sent: `storage` stays small.
    private var largeLine: [UInt8]?
    /// Whether `largeLine` holds the answer: a flag, so the common answer
    /// costs a test of a byte, not a load and release of an optional array.
    private var answerIsLarge = false
    static let largestKept = 1 << 20
    /// Error lines are built as arrays (rare), then copied into `line`.
    private var scratch: [UInt8] = []
    private var id: UnsafeBufferPointer<UInt8>?
    /// The request's own data, which the host has already checked, and
    /// whether it may hold a raw line break.
    private var data: UnsafeBufferPointer<UInt8>?
    private var dataSpansLines = false
    /// The route being answered, for messages. Not retained: routes live
    /// as long as the worker.
    private unowned(unsafe) var routeEntry: LoadedPlugin.RouteEntry?
    private var route: String { routeEntry?.label ?? "(no route)" }
    private var active = false
    private(set) var status = 0

    init() {
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Room for `count` bytes in `line`; what it holds is kept.
    private func reserve(_ count: Int) {
        guard count > capacity else { return }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, capacity * 2))
        grown.update(from: storage, count: length)
        storage.deallocate()
        storage = grown
        capacity = max(count, capacity * 2)
    }

    /// An answer built by ResponseWriter into an array: the rare ones.
    private func write(_ build: (inout [UInt8]) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        build(&scratch)
        if scratch.count > ResponseContext.largestKept {
            largeLine = scratch
            answerIsLarge = true
            scratch = []
            length = 0
            return
        }
        reserve(scratch.count)
        scratch.withUnsafeBufferPointer { if let base = $0.baseAddress { storage.update(from: base, count: $0.count) } }
        length = scratch.count
    }

    /// Runs `body` with the context of `request`, borrowed rather than
    /// retained (it outlives every request). A request without one (a
    /// plugin passing garbage) is ignored.
    @inline(__always)
    static func with(_ request: UnsafePointer<berth_request>?, _ body: (ResponseContext) -> Void) {
        guard let opaque = request?.pointee.host_private else { return }
        Unmanaged<ResponseContext>.fromOpaque(opaque)._withUnsafeGuaranteedRef(body)
    }

    func begin(id: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>?, dataSpansLines: Bool,
               route: LoadedPlugin.RouteEntry) {
        length = 0
        self.id = id
        self.data = data
        self.dataSpansLines = dataSpansLines
        self.routeEntry = route
        active = true
        status = 0
    }

    /// Ends the request; returns the status sent (0 if the plugin sent none).
    func end() -> Int {
        active = false
        return status
    }

    func respond(status: Int, body: UnsafeRawBufferPointer) {
        guard claim(status) else { return }
        // A body that is the request's data, handed back (an echo), was
        // checked when the request was parsed.
        let isRequestData = body.baseAddress == UnsafeRawPointer(data?.baseAddress) && body.count == data?.count
        var spansLines = isRequestData && dataSpansLines
        if !body.isEmpty, !isRequestData {
            switch JSONValidator.check(body) {
            case .valid(let lines):
                spansLines = lines
            case .invalid(let offset, let reason):
                self.status = 502
                write { ResponseWriter.appendError(&$0, id: id, status: 502, code: "invalid_response",
                                                   message: "plugin \(HostAPI.pluginName) answered \(route) with a body that is not valid JSON (byte \(offset): \(reason)); the plugin must pass respond one JSON value") }
                Log.error("handler for \(route) answered with a body that is not valid JSON (byte \(offset) of \(body.count): \(reason)); the client got 502 invalid_response; fix the handler to pass respond one JSON value", plugin: HostAPI.pluginName)
                return
            }
        }
        // Valid JSON has no raw line break inside a string, so any here is
        // whitespace between tokens (a pretty-printed body): a space means
        // the same and keeps the answer on one line.
        if spansLines {
            let flat = body.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
            flat.withUnsafeBytes { writeSuccess(status: status, body: $0) }
            return
        }
        writeSuccess(status: status, body: body)
    }

    private func writeSuccess(status: Int, body: UnsafeRawBufferPointer) {
        guard ResponseWriter.writesSuccessHead(id: id, status: status) else {
            return write { ResponseWriter.appendSuccess(&$0, id: id, status: status, data: body) }
        }
        let bound = ResponseWriter.successHeadBound + body.count + 6
        guard bound <= ResponseContext.largestKept else {
            largeLine = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
                initialized = ResponseWriter.writeSuccessLine(buffer.baseAddress!, id: id, status: status, data: body)
            }
            answerIsLarge = true
            return
        }
        reserve(bound)
        length = ResponseWriter.writeSuccessLine(storage, id: id, status: status, data: body)
    }

    /// Appends the answer line to the connection's output: the large one
    /// is handed over (not copied when nothing else is queued) and
    /// forgotten here, so its memory goes once it is sent.
    @inline(__always)
    func handOver(to reply: borrowing ReplyContext) {
        if _slowPath(answerIsLarge) { return handOverLarge(to: reply) }
        reply.appendLine(line)
    }

    @inline(never)
    private func handOverLarge(to reply: borrowing ReplyContext) {
        var large = largeLine ?? []
        largeLine = nil
        answerIsLarge = false
        reply.appendLine(taking: &large)
    }

    func respondError(status: Int, code: String, message: String) {
        guard claim(status) else { return }
        write { ResponseWriter.appendError(&$0, id: id, status: status, code: code, message: message) }
    }

    /// The status `end` returns for a request whose answer the handler
    /// took for later (`takeForLater`): not an HTTP status, so the
    /// answered-twice check covers it for free.
    static let deferredStatus = 1
    /// The handle the handler took, until `takeDeferred`.
    private var deferred: DeferredAnswer?

    /// berth_host_api.defer: the handle, retained for the plugin.
    func takeForLater() -> OpaquePointer? {
        guard active, status == 0, let routeEntry else {
            Log.warn(active ? "defer called for \(route) after it was answered or deferred; refused" : "defer called outside a handler; refused",
                     plugin: HostAPI.pluginName)
            return nil
        }
        let answer = DeferredAnswer(route: route, limit: routeEntry.watchdog?.pointee.timeout_ms ?? 0)
        deferred = answer
        status = ResponseContext.deferredStatus
        return OpaquePointer(Unmanaged.passRetained(answer).toOpaque())
    }

    /// After `end` returned `deferredStatus`: the handle taken.
    func takeDeferred() -> DeferredAnswer? {
        defer { deferred = nil }
        return deferred
    }

    private func claim(_ status: Int) -> Bool {
        guard active else {
            Log.warn("respond called outside a handler (for \(route)); ignored", plugin: HostAPI.pluginName)
            return false
        }
        guard self.status == 0 else {
            Log.warn(self.status == ResponseContext.deferredStatus
                        ? "handler for \(route) called respond after defer; ignored: answer through the deferred handle"
                        : "handler for \(route) answered twice; the second answer was ignored", plugin: HostAPI.pluginName)
            return false
        }
        guard (100...599).contains(status) else {
            self.status = 500
            write { ResponseWriter.appendError(&$0, id: id, status: 500, code: "bad_status",
                                               message: "plugin \(HostAPI.pluginName) answered \(route) with status \(status); statuses must be 100-599") }
            return false
        }
        self.status = status
        return true
    }
}
