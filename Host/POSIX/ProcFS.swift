import Glibc

/// What /proc tells about another process: how the host watches a worker's
/// memory and descriptors without the worker's help.
public enum ProcFS {
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Resident set size in bytes (the second field of /proc/<pid>/statm);
    /// nil when the process is gone.
    public static func residentBytes(_ pid: pid_t) -> Int? {
        guard let fd = try? FileDescriptor.open("/proc/\(pid)/statm", O_RDONLY) else { return nil }
        defer { fd.close() }
        var buffer = [UInt8](repeating: 0, count: 128)
        guard let n = try? buffer.withUnsafeMutableBytes({ try fd.read(into: $0.baseAddress!, count: $0.count) }), n > 0 else { return nil }
        let fields = buffer[0..<n].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * pageSize
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
