// The host function table a PluginTestClient hands a plugin: `respond` and
// `respond_error` record the answer (and check it as a worker's
// ResponseContext does) instead of writing to a socket; `log` prints to
// standard error, where a test run shows it.
internal import CBerth
import Foundation
import Glibc

/// The one request a PluginTestClient is answering; `host_private` points
/// at it.
final class TestAnswer {
    let pluginName: String
    let routeLabel: String
    private(set) var response: PluginTestResponse?

    init(pluginName: String, routeLabel: String) {
        self.pluginName = pluginName
        self.routeLabel = routeLabel
    }

    func respond(status: Int, body: [UInt8]) {
        guard claim(status) else { return }
        guard body.isEmpty || (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil else {
            response = .error(status: 502, code: "invalid_response",
                              message: "plugin \(pluginName) answered \(routeLabel) with a body that is not valid JSON; the plugin must pass respond one JSON value")
            return
        }
        // Valid JSON has line breaks only between tokens: the host sends
        // them as spaces, so the answer stays one line.
        response = .success(status: status, body: body.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
    }

    func respondError(status: Int, code: String, message: String) {
        guard claim(status) else { return }
        response = .error(status: status, code: code, message: message)
    }

    /// The host's rules: the first answer counts, and its status must be
    /// 100-599 (else 500 bad_status).
    private func claim(_ status: Int) -> Bool {
        guard response == nil else {
            FileHandle.standardError.write(Data("[\(pluginName)] warn: handler for \(routeLabel) answered twice; the second answer was ignored\n".utf8))
            return false
        }
        guard (100...599).contains(status) else {
            response = .error(status: 500, code: "bad_status",
                              message: "plugin \(pluginName) answered \(routeLabel) with status \(status); statuses must be 100-599")
            return false
        }
        return true
    }

    /// What the client gets: the handler's answer, or the host's 500 for a
    /// handler that returned without one.
    var finalResponse: PluginTestResponse {
        response ?? .error(status: 500, code: "no_response",
                           message: "plugin \(pluginName): handler for \(routeLabel) returned without responding; fix the plugin to call respond or respond_error")
    }

    static func with(_ request: UnsafePointer<berth_request>?, _ body: (TestAnswer) -> Void) {
        guard let opaque = request?.pointee.host_private else { return }
        body(Unmanaged<TestAnswer>.fromOpaque(opaque).takeUnretainedValue())
    }
}

enum TestHostTable {
    /// Never freed: a plugin may keep the pointer init gave it.
    nonisolated(unsafe) static let table: UnsafePointer<berth_host_api> = {
        let table = UnsafeMutablePointer<berth_host_api>.allocate(capacity: 1)
        table.initialize(to: berth_host_api(
            magic: BERTH_PLUGIN_MAGIC, abi_major: UInt16(BERTH_ABI_MAJOR), abi_minor: UInt16(BERTH_ABI_MINOR),
            // Not yet the ABI 1.2 members (deferred answers, after): the
            // size ends before them, so BERTH_HOST_HAS says they are absent.
            size: UInt32(MemoryLayout<berth_host_api>.offset(of: \berth_host_api.`defer`)!),
            respond: { request, status, json, length in
                let body = json.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
                TestAnswer.with(request) { $0.respond(status: Int(status), body: body) }
            },
            respond_error: { request, status, code, message in
                TestAnswer.with(request) {
                    $0.respondError(status: Int(status), code: code.map { String(cString: $0) } ?? "error",
                                    message: message.map { String(cString: $0) } ?? "")
                }
            },
            log: { level, message in
                let names = [BERTH_LOG_DEBUG: "debug", BERTH_LOG_INFO: "info", BERTH_LOG_WARN: "warn"]
                let text = message.map { String(cString: $0) } ?? ""
                FileHandle.standardError.write(Data("[plugin] \(names[level] ?? "error"): \(text)\n".utf8))
            },
            defer: nil, deferred_respond: nil, deferred_respond_error: nil, after: nil, post: nil, call: nil))
        return UnsafePointer(table)
    }()
}
