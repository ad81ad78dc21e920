// The descriptor's init and shutdown entry points. They are C function
// pointers, so they cannot capture anything: the state they need lives in
// `Runtime`, which is per image (every plugin .so links its own copy of this
// module), so two Swift plugins in one process never share it.
internal import CBerth

enum Runtime {
    // The host calls plugin functions from one thread, one call at a time
    // (berth.h, "Threading"), which is what makes these unsynchronised
    // globals safe.

    /// The host's function table, saved by `init`; nil before it.
    nonisolated(unsafe) static var host: UnsafePointer<berth_host_api>?

    /// The plugin whose descriptor was handed to the host, i.e. whose hooks
    /// `init` and `shutdown` must run.
    nonisolated(unsafe) static var plugin: Plugin?
}

/// `berth_plugin.init`: remembers the host table, then runs `onInit`.
func pluginInit(_ host: UnsafePointer<berth_host_api>?, _ configJSON: UnsafePointer<CChar>?) -> Int32 {
    Runtime.host = host
    guard let onInit = Runtime.plugin?.onInit else { return 0 }
    let config = PluginConfig(json: configJSON.map { String(cString: $0) } ?? "{}")
    do {
        try onInit(config)
        return 0
    } catch {
        // The host refuses the load and points at the log for the reason.
        let reason = (error as? PluginError)?.message ?? "\(type(of: error)): \(error)"
        PluginLog.error("init failed: \(reason)")
        return 1
    }
}

/// `berth_plugin.shutdown`: runs `onShutdown`. Route boxes and descriptor
/// memory are left alone; the process is about to exit.
func pluginShutdown() {
    Runtime.plugin?.onShutdown?()
}
