import BerthChannel
import BerthPOSIX
import BerthSupport
import Glibc

/// What a worker says to the host and hears from it before it serves
/// (ChannelProtocol describes the whole conversation).
extension WorkerProcess {
    static let inherited = InheritedDescriptors.inWorker
    /// Waits for the host until serving; the event loop then reads it
    /// without waiting.
    static let channel = WorkerChannelEnd(inherited.channel, waits: true)

    /// Tells the host the plugin loaded, with its routes.
    static func report(_ plugin: LoadedPlugin, _ options: Options) {
        let routes = plugin.routes.map { ChannelRoute(method: $0.method, pattern: "\($0.pattern)", isPublic: $0.isPublic, scope: $0.scope) }
        do {
            try channel.send(.loaded(PluginReport(name: plugin.name, version: plugin.version, abi: plugin.abi, routes: routes)))
        } catch let error as ChannelError {
            fail("\(options.file): plugin \(plugin.name) cannot report its routes: \(error); declare fewer routes, or shorter patterns, scopes or version")
        } catch {
            Log.error("cannot reach the host: \(error)")
            exit(WorkerExitCode.cannotReachHost)
        }
    }

    /// Tells the host the plugin's name and waits for `initialize`. A host
    /// that closes the channel instead refused the name (or is stopping this
    /// worker): exit without running init.
    static func awaitNameGranted(_ plugin: LoadedPlugin, _ options: Options) {
        do {
            try channel.send(.named(plugin.name))
        } catch {
            Log.error("cannot reach the host: \(error)")
            exit(WorkerExitCode.cannotReachHost)
        }
        guard let (message, passed) = receiveFromHost(options) else { exit(0) }
        passed?.close()
        guard case .initialize = message else {
            fail("\(options.file): the host sent \(message.kind) where initialize was expected")
        }
    }

    /// The host's next message, waiting for it, and the socket that came
    /// with it; nil if the host closed the channel (it is gone, or stopped
    /// this worker).
    static func receiveFromHost(_ options: Options) -> (HostMessage, FileDescriptor?)? {
        do {
            guard case .message(let message, let passed)? = try channel.receive(waiting: true) else { return nil }
            return (message, passed)
        } catch {
            fail("\(options.file): cannot read the host's message: \(error)")
        }
    }

    /// Reports a load failure to the host and exits.
    static func fail(_ reason: String) -> Never {
        try? channel.send(.failed(reason: reason))
        exit(3)
    }
}
