import Glibc

/// setrlimit for the calling process: how a worker bounds itself before it
/// loads its plugin.
public enum ResourceLimits {
    /// CPU time in seconds: SIGXCPU at `seconds`, SIGKILL one second later
    /// (for a plugin that catches SIGXCPU).
    public static func limitCPU(seconds: Int) throws {
        try set(Int32(RLIMIT_CPU.rawValue), "RLIMIT_CPU", soft: rlim_t(seconds), hard: rlim_t(seconds + 1))
    }

    /// Open descriptors: open, accept, socket... fail with EMFILE beyond it.
    public static func limitOpenFiles(_ count: Int) throws {
        try set(Int32(RLIMIT_NOFILE.rawValue), "RLIMIT_NOFILE", soft: rlim_t(count), hard: rlim_t(count))
    }

    private static func set(_ resource: Int32, _ name: String, soft: rlim_t, hard: rlim_t) throws {
        var limit = rlimit(rlim_cur: soft, rlim_max: hard)
        if setrlimit(resource, &limit) != 0 {
            let code = errno
            var current = rlimit()
            getrlimit(resource, &current)
            throw Errno(code, "setrlimit(\(name), \(hard)) with a hard limit of \(current.rlim_max == rlim_t.max ? "unlimited" : String(current.rlim_max))")
        }
    }
}
