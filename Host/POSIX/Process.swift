import CBerthShims
import Glibc

/// Child processes: spawned as fresh images (posix_spawn, so no Swift code
/// runs between fork and exec), reaped without blocking.
public enum ChildProcess {
    /// How a child ended.
    public enum Exit: Equatable, CustomStringConvertible {
        case exited(Int32)
        case killed(Int32)

        public var description: String {
            switch self {
            case .exited(let code): return "exited with code \(code)"
            case .killed(let signal): return "killed by \(SignalChannel.name(signal))"
            }
        }
    }

    /// Starts `executable` with `arguments`. `descriptors[i]` becomes fd
    /// 3 + i in the child; every other fd above 2 is closed. Signal mask and
    /// dispositions are reset, since the parent blocks and ignores some.
    /// `programName` is argv[0], what `ps` shows (the executable's path
    /// unless given). With `ownProcessGroup` the child leads a new process
    /// group (its pid is the group's id), set before exec, so everything it
    /// starts can be signalled at once (`killGroup`).
    public static func spawn(_ executable: String, _ arguments: [String], descriptors: [FileDescriptor],
                             environment: [String]? = nil, programName: String? = nil,
                             ownProcessGroup: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Move every source above all sources and targets first, so no
        // dup2 overwrites a source still to be moved (a host with many
        // plugins has sources numbered anywhere, including 3, 4, 5).
        let staging = max(descriptors.map(\.rawValue).max() ?? 0, 2 + Int32(descriptors.count)) + 1
        for (i, fd) in descriptors.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, fd.rawValue, staging + Int32(i))
        }
        for i in descriptors.indices {
            posix_spawn_file_actions_adddup2(&actions, staging + Int32(i), 3 + Int32(i))
        }
        berth_spawn_file_actions_addclosefrom(&actions, 3 + Int32(descriptors.count))

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGTERM, SIGINT, SIGCHLD, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([programName ?? executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { envp?.forEach { free($0) } }
        let rc = envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        if rc != 0 { throw Errno(rc, "posix_spawn(\(executable))") }
        return pid
    }

    /// Reaps every child that has ended, without blocking, with the CPU
    /// time (user and system) each used: what tells a CPU limit's SIGKILL
    /// from any other.
    public static func reapAll() -> [(pid: pid_t, exit: Exit, cpuSeconds: Double)] {
        var ended: [(pid_t, Exit, Double)] = []
        while true {
            var status: Int32 = 0
            var usage = rusage()
            let pid = wait4(-1, &status, WNOHANG, &usage)
            if pid <= 0 { return ended }
            let signal = status & 0x7f
            let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
            ended.append((pid, signal == 0 ? .exited((status >> 8) & 0xff) : .killed(signal), cpu))
        }
    }

    public static func signal(_ pid: pid_t, _ signal: Int32) {
        if pid > 0 { kill(pid, signal) }
    }

    /// SIGKILLs every process left in the group `leader` led (spawned with
    /// `ownProcessGroup`): what it started and forked. Call it right after
    /// the leader is reaped: while a member lives, the kernel does not give
    /// the group's number to a new process. Returns whether any was left.
    @discardableResult
    public static func killGroup(_ leader: pid_t) -> Bool {
        leader > 1 && kill(-leader, SIGKILL) == 0
    }

    /// This process's environment as NAME=value strings.
    public static func currentEnvironment() -> [String] {
        var result: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            result.append(String(cString: entry))
            cursor += 1
        }
        return result
    }

    /// This process's executable, for spawning workers of the same build.
    /// A path that names this very binary for as long as the process
    /// lives, even after the file it was started from is replaced (a
    /// package upgrade renames a new berth over it): `/proc/PID/fd/N` of a
    /// descriptor kept open on it, which a child resolves through the
    /// parent's descriptor table while it execs. Workers must be the same
    /// build as their host (the channel between them is versioned by
    /// build, not by a schema). Falls back to the path when /proc is
    /// missing.
    public static func pinnedExecutable() -> String {
        let fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return currentExecutable() }
        // Never closed: the path must stay valid until the host exits.
        return "/proc/\(getpid())/fd/\(fd)"
    }

    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
        return n > 0 ? String(cString: buffer) : CommandLine.arguments[0]
    }
}

/// Settings of the calling process.
public enum CurrentProcess {
    /// Asks the kernel to send `signal` when the parent dies.
    public static func dieWithParent(signal: Int32 = SIGKILL) {
        _ = berth_set_parent_death_signal(signal)
    }

    /// The name `ps -e` and `top` show (15 bytes at most).
    public static func setName(_ name: String) {
        _ = berth_set_process_name(String(name.prefix(15)))
    }

    /// The command line `ps -ef`, `ps aux`, `top -c` and `pgrep -f` show,
    /// cut to the length of the arguments the process was started with.
    /// CommandLine.arguments must have been read before: they are overwritten.
    public static func setCommandLine(_ words: [String]) {
        let bytes = Array(words.joined(separator: "\0").utf8)
        _ = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { berth_set_command_line($0.baseAddress, $0.count) }
        }
    }
}
