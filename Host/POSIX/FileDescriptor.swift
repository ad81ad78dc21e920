import CBerthShims
import Glibc

/// An open file descriptor. A value type: whoever created it closes it.
public struct FileDescriptor: Hashable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardError = FileDescriptor(rawValue: 2)

    public var description: String { "fd \(rawValue)" }

    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = try syscall("open(\(path))") { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(rawValue: fd)
    }

    public func close() {
        _ = Glibc.close(rawValue)
    }

    /// Reads up to `count` bytes into `buffer`; 0 means end of file.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        try syscall("read") { Glibc.read(rawValue, buffer, count) }
    }

    /// Writes some of the bytes; returns how many (a short write is normal on
    /// a non-blocking socket).
    public func write(_ buffer: UnsafeRawPointer, count: Int) throws -> Int {
        try syscall("write") { Glibc.write(rawValue, buffer, count) }
    }

    /// Writes all the bytes, looping over short writes (blocking fds only).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            done += try write(bytes.baseAddress! + done, count: bytes.count - done)
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll($0) }
    }

    public func writeAll(_ string: String) throws {
        try writeAll(Array(string.utf8))
    }

    /// Reads until end of file.
    public func readAll() throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0.baseAddress!, count: $0.count) }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    /// A second descriptor for the same open file, close-on-exec: for
    /// keeping it past its owner's close (a socket waiting to be passed on).
    public func duplicate() throws -> FileDescriptor {
        FileDescriptor(rawValue: try syscall("fcntl(F_DUPFD_CLOEXEC)") { fcntl(rawValue, F_DUPFD_CLOEXEC, 3) })
    }

    /// Closes it in any program this process executes (descriptors
    /// inherited through dup2 lose the flag).
    public func setCloseOnExec() throws {
        _ = try syscall("fcntl(F_SETFD)") { fcntl(rawValue, F_SETFD, FD_CLOEXEC) }
    }

    public func setNonBlocking(_ on: Bool = true) throws {
        let flags = try syscall("fcntl(F_GETFL)") { fcntl(rawValue, F_GETFL) }
        _ = try syscall("fcntl(F_SETFL)") { fcntl(rawValue, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) }
    }
}

extension FileDescriptor {
    /// An anonymous in-memory file (memfd_create), close-on-exec.
    public static func memfd(name: String) throws -> FileDescriptor {
        FileDescriptor(rawValue: try syscall("memfd_create") { berth_memfd_create(name) })
    }
}
