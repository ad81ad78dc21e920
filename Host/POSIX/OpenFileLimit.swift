import Glibc

/// RLIMIT_NOFILE. Every connection is a descriptor, and the soft limit is
/// often 1024 while the hard limit allows far more: host and workers raise
/// the soft limit to the hard one at start, as servers do.
public enum OpenFileLimit {
    /// Raises the soft limit to the hard limit; returns the soft limit now
    /// in force (the old one if raising failed).
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, rlim_t(Int32.max)))
    }
}
