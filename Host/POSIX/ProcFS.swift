import Glibc

/// What /proc tells about another process: how the host watches a worker's
/// memory and descriptors without the worker's help.
public enum ProcFS {
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Resident set size in bytes of each process group in `groups`,
    /// summed over every process in it (field 24 of /proc/<pid>/stat,
    /// grouped by field 5), in one pass over /proc: what a worker costs
    /// together with the programs and forks it started, which stay in its
    /// group. Groups with no process left are absent. Pages two processes
    /// share (after a fork) count once per process: an upper bound.
    public static func residentBytes(ofGroups groups: Set<pid_t>) -> [pid_t: Int] {
        var totals: [pid_t: Int] = [:]
        guard !groups.isEmpty, let directory = opendir("/proc") else { return totals }
        defer { closedir(directory) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        while let entry = readdir(directory) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { name -> pid_t? in
                let digits = name.prefix { $0 != 0 }
                guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
                return pid_t(String(decoding: digits, as: UTF8.self))
            }
            guard let pid, let (group, pages) = groupAndResidentPages(pid, buffer: &buffer), groups.contains(group) else { continue }
            totals[group, default: 0] += pages * pageSize
        }
        return totals
    }

    /// pgrp and rss from /proc/<pid>/stat. The command name (field 2) may
    /// hold spaces and parentheses, so fields are counted from its last ')'.
    private static func groupAndResidentPages(_ pid: pid_t, buffer: inout [UInt8]) -> (pid_t, Int)? {
        guard let fd = try? FileDescriptor.open("/proc/\(pid)/stat", O_RDONLY) else { return nil }
        defer { fd.close() }
        guard let n = try? buffer.withUnsafeMutableBytes({ try fd.read(into: $0.baseAddress!, count: $0.count) }), n > 0,
              let close = buffer[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After ')': state, ppid, pgrp (index 2), ... rss (index 21).
        let fields = buffer[(close + 1)..<n].split(separator: UInt8(ascii: " "))
        guard fields.count > 21, let group = pid_t(String(decoding: fields[2], as: UTF8.self)),
              let pages = Int(String(decoding: fields[21], as: UTF8.self)) else { return nil }
        return (group, pages)
    }

    /// Whether `pid` names a process that has not ended (a zombie has).
    public static func isRunning(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        guard let fd = try? FileDescriptor.open("/proc/\(pid)/stat", O_RDONLY) else { return kill(pid, 0) == 0 || errno == EPERM }
        defer { fd.close() }
        var buffer = [UInt8](repeating: 0, count: 512)
        guard let n = try? buffer.withUnsafeMutableBytes({ try fd.read(into: $0.baseAddress!, count: $0.count) }), n > 0,
              let close = buffer[0..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
        // The state letter follows the command name: Z zombie, X dead.
        return buffer[close + 2] != UInt8(ascii: "Z") && buffer[close + 2] != UInt8(ascii: "X")
    }

    /// The processes holding a listening Unix socket bound to `path` open:
    /// /proc/net/unix gives the socket's inode, /proc/<pid>/fd who holds
    /// it. Reads every process's descriptors, so only for a message naming
    /// who is in the way; empty when /proc cannot tell.
    public static func holdersOfListeningSocket(boundTo path: String) -> [pid_t] {
        guard let table = try? Files.read("/proc/net/unix") else { return [] }
        // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000: listening.
        let links = Set(String(decoding: table, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 8, fields[3] == "00010000", fields[7...].joined(separator: " ") == path else { return nil }
            return "socket:[\(fields[6])]"
        })
        guard !links.isEmpty, let processes = try? Files.list("/proc") else { return [] }
        var link = [CChar](repeating: 0, count: 64)
        return processes.compactMap { pid_t($0) }.filter { pid in
            guard let descriptors = try? Files.list("/proc/\(pid)/fd") else { return false }
            return descriptors.contains { fd in
                let n = readlink("/proc/\(pid)/fd/\(fd)", &link, link.count - 1)
                guard n > 0 else { return false }
                link[n] = 0
                return links.contains(String(cString: link))
            }
        }.sorted()
    }

    /// How many descriptors the process has open; nil when it is gone.
    public static func openDescriptorCount(_ pid: pid_t) -> Int? {
        guard let directory = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
        }
        return count
    }
}
