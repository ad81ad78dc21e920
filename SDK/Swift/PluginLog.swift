internal import CBerth

/// Writes to the host's log, tagged with the plugin's name.
///
/// Messages written before the host called `init` are dropped: there is no
/// host function to call yet. Call only from the thread the host calls the
/// plugin on; the host API must not be used from a plugin's own threads.
public enum PluginLog {
    /// Detail useful while developing.
    public static func debug(_ message: String) { write(BERTH_LOG_DEBUG, message) }
    /// Normal events worth a line.
    public static func info(_ message: String) { write(BERTH_LOG_INFO, message) }
    /// Something odd that did not stop the plugin.
    public static func warn(_ message: String) { write(BERTH_LOG_WARN, message) }
    /// Something failed.
    public static func error(_ message: String) { write(BERTH_LOG_ERROR, message) }

    static func write(_ level: Int32, _ message: String) {
        guard let log = Runtime.host?.pointee.log else { return }
        message.withCString { log(level, $0) }
    }
}
