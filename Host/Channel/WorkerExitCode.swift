/// Exit statuses a worker uses to tell the host why it ended without a
/// message, so the host's log can say so instead of calling it a crash.
public enum WorkerExitCode {
    /// The worker could not send to the host over its channel (fd 3): the
    /// plugin did not crash; the channel broke or the message could not go.
    public static let cannotReachHost: Int32 = 72
}
