import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

/// While a plugin is down (it failed to start, or crashed too often), the
/// host answers on its socket itself.
extension Supervisor {
    /// Answers every request on the plugin's socket with 503 and the reason,
    /// so clients get an error instead of waiting in the backlog.
    func startUnavailable(_ slot: PluginSlot, _ reason: String) {
        guard slot.unavailable == nil, let name = slot.name,
              let listener = try? listeners.listener(for: name, at: configuration.socketPath(for: name)) else { return }
        let server = LineServer(loop: loop, listener: listener, handler: UnavailableResponder(plugin: name, reason: reason), name: name)
        if (try? server.start()) != nil { slot.unavailable = server }
    }

    func stopUnavailable(_ slot: PluginSlot) {
        guard let server = slot.unavailable else { return }
        server.stopAccepting()
        server.closeAll()
        slot.unavailable = nil
    }
}

/// The host's answer on the socket of a plugin that is down.
final class UnavailableResponder: RequestHandler {
    private let message: String

    init(plugin: String, reason: String) {
        message = "plugin \(plugin) is down: \(reason). Fix it and run `berth reload`, or `berth restart \(plugin)`; `berth status` shows details"
    }

    func handle(_ request: IncomingRequest, reply: borrowing ReplyContext) {
        reply.appendError(status: 503, code: "plugin_unavailable", message: message)
    }
}
