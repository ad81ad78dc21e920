import Glibc

/// Whole-file helpers for the few files Berth owns (pid, token, plugins).
public enum Files {
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        defer { fd.close() }
        return try fd.readAll()
    }

    /// A file the host reads because it was dropped in a folder (a plugin
    /// library, its settings), which may be anything: opened without
    /// blocking (a FIFO would otherwise wait for a writer forever), refused
    /// unless a regular file (a symlink to /dev/zero never ends), and
    /// refused above `maximumBytes` before anything is read, with
    /// `whenTooLarge` saying what to do.
    public static func readRegularFile(_ path: String, maximumBytes: Int, whenTooLarge advice: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        defer { fd.close() }
        let status = try fd.status()
        guard status.isRegularFile else {
            throw Refusal(description: "\(path) is a \(status.kind), not a regular file: put the file itself there, not a FIFO, device or a symlink to one")
        }
        guard status.size <= maximumBytes else {
            throw Refusal(description: "\(path) is \(status.size) bytes, over the limit of \(maximumBytes >> 20) MiB for this file: \(advice)")
        }
        let bytes = try fd.readAll()
        // It grew while being read.
        guard bytes.count <= maximumBytes else {
            throw Refusal(description: "\(path) grew past the limit of \(maximumBytes >> 20) MiB while it was read: copy it in whole, then reload")
        }
        return bytes
    }

    /// A file readRegularFile will not read, and why.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    public static func readString(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes to a temporary name and renames it into place, so a reader
    /// never sees half a file.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let temporary = "\(path).tmp.\(getpid())"
        let fd = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do {
            do {
                try fd.writeAll(bytes)
            } catch let error as Errno {
                // Name the file: "write: No space left on device" alone
                // leaves the operator guessing which disk is full.
                throw Errno(error.code, "write(\(path))")
            }
            _ = try syscall("fchmod(\(temporary))") { fchmod(fd.rawValue, mode) }
            fd.close()
        } catch {
            fd.close()
            unlink(temporary)
            throw error
        }
        _ = try syscall("rename(\(temporary), \(path))") { rename(temporary, path) }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func remove(_ path: String) { unlink(path) }

    /// Creates the directory (and parents) if missing, with `mode` (the
    /// umask cannot narrow the last one). An existing directory keeps its
    /// mode: the operator may have set it on purpose (a group of clients).
    /// Returns whether it created the directory.
    @discardableResult
    public static func makeDirectory(_ path: String, mode: mode_t) throws -> Bool {
        var prefix = path.hasPrefix("/") ? "/" : ""
        var created = false
        for part in path.split(separator: "/") {
            prefix += part
            created = mkdir(prefix, mode) == 0
            if !created && errno != EEXIST {
                throw Errno.current("mkdir(\(prefix))")
            }
            prefix += "/"
        }
        if created {
            _ = try syscall("chmod(\(path))") { chmod(path, mode) }
        }
        return created
    }

    /// Names in a directory, sorted, without "." and "..".
    public static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw Errno.current("opendir(\(path))") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

}
