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
            }))
        return table
    }()
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

    private func claim(_ status: Int) -> Bool {
        guard active else {
            Log.warn("respond called outside a handler (for \(route)); ignored", plugin: HostAPI.pluginName)
            return false
        }
        guard self.status == 0 else {
            Log.warn("handler for \(route) answered twice; the second answer was ignored", plugin: HostAPI.pluginName)
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
