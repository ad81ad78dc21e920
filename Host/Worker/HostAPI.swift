import BerthPOSIX
import BerthWire
import CBerth
import Glibc

/// The function table a worker hands its plugin (berth_host_api). The
/// functions find the request being answered through `host_private`.
enum HostAPI {
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
                guard let context = ResponseContext.of(request) else { return }
                context.respond(status: Int(status), body: UnsafeRawBufferPointer(start: json, count: json == nil ? 0 : length))
            },
            respond_error: { request, status, code, message in
                guard let context = ResponseContext.of(request) else { return }
                context.respondError(status: Int(status), code: code.map { String(cString: $0) } ?? "error",
                                     message: message.map { String(cString: $0) } ?? "")
            },
            log: { level, message in
                let text = message.map { String(cString: $0) } ?? ""
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

/// Where the answer to the request being handled goes. One per worker,
/// reused for every request (handlers run one at a time).
final class ResponseContext {
    var output: UnsafeMutablePointer<[UInt8]>?
    var id: UnsafeBufferPointer<UInt8>?
    var route = ""
    private(set) var status = 0

    static func of(_ request: UnsafePointer<berth_request>?) -> ResponseContext? {
        guard let opaque = request?.pointee.host_private else { return nil }
        return Unmanaged<ResponseContext>.fromOpaque(opaque).takeUnretainedValue()
    }

    func begin(output: UnsafeMutablePointer<[UInt8]>, id: UnsafeBufferPointer<UInt8>?, route: String) {
        self.output = output
        self.id = id
        self.route = route
        status = 0
    }

    /// Ends the request; returns the status sent (0 if the plugin sent none).
    func end() -> Int {
        output = nil
        return status
    }

    func respond(status: Int, body: UnsafeRawBufferPointer) {
        guard let output = claim(status) else { return }
        ResponseWriter.appendSuccess(&output.pointee, id: id, status: status, data: body)
    }

    func respondError(status: Int, code: String, message: String) {
        guard let output = claim(status) else { return }
        ResponseWriter.appendError(&output.pointee, id: id, status: status, code: code, message: message)
    }

    private func claim(_ status: Int) -> UnsafeMutablePointer<[UInt8]>? {
        guard let output else {
            Log.warn("respond called outside a handler (for \(route)); ignored", plugin: HostAPI.pluginName)
            return nil
        }
        guard self.status == 0 else {
            Log.warn("handler for \(route) answered twice; the second answer was ignored", plugin: HostAPI.pluginName)
            return nil
        }
        guard (100...599).contains(status) else {
            self.status = 500
            ResponseWriter.appendError(&output.pointee, id: id, status: 500, code: "bad_status",
                                       message: "plugin \(HostAPI.pluginName) answered \(route) with status \(status); statuses must be 100-599")
            return nil
        }
        self.status = status
        return output
    }
}
