import BerthPOSIX
import BerthSupport
import Glibc

/// The private host of `berth try` must not outlive it, however it ends
/// (a SIGKILL included): `berth try` names itself in this variable, and a
/// `berth serve` that finds it asks the kernel for SIGTERM when its parent
/// dies, which stops it as an operator's SIGTERM does. Not an option of
/// `berth serve`: only `berth try` sets it.
enum StopWithParent {
    static let variable = "BERTH_STOP_WITH_PARENT"

    /// The environment entry for a child of this process.
    static var environmentEntry: String { "\(variable)=\(getpid())" }

    /// In `berth serve`, before anything starts.
    static func applyIfAsked() {
        guard let value = getenv(variable).map({ String(cString: $0) }), let parent = pid_t(value) else { return }
        unsetenv(variable)
        CurrentProcess.dieWithParent(signal: SIGTERM)
        // A parent that ended before the request was made sends nothing.
        if getppid() != parent {
            Log.error("berth try (pid \(parent)) ended before its private host started; stopping")
            exit(1)
        }
    }
}
