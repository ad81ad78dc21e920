import CBerthShims
import Glibc

/// Signals delivered as readable events. The signals are blocked for the
/// whole process BEFORE any thread exists, so no thread can die of them or
/// run a handler at a bad moment; a signalfd in the event loop reads them.
public final class SignalChannel {
    public let fd: FileDescriptor

    public init(_ signals: [Int32]) throws {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        let rc = pthread_sigmask(SIG_BLOCK, &mask, nil)
        if rc != 0 { throw Errno(rc, "pthread_sigmask") }
        fd = FileDescriptor(rawValue: try syscall("signalfd") { berth_signalfd(&mask) })
    }

    /// The signals that arrived since the last call (each at most once:
    /// the kernel coalesces repeats of a pending signal).
    public func drain() -> [Int32] {
        var received: [Int32] = []
        while true {
            let signal = berth_signalfd_read(fd.rawValue)
            if signal <= 0 { return received }
            received.append(signal)
        }
    }

    /// SIGPIPE would kill a process writing to a closed socket; Berth wants
    /// EPIPE from write(2) instead.
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    public static func name(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
            SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
            SIGCHLD: "SIGCHLD", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
