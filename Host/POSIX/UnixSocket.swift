import CBerthShims
import Glibc

/// AF_UNIX stream sockets: the only transport Berth speaks.
public enum UnixSocket {
    /// sun_path holds 108 bytes including the terminating NUL.
    public static let maximumPathLength = 107

    private static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) throws -> R {
        let bytes = Array(path.utf8)
        guard bytes.count <= maximumPathLength else {
            throw Errno(ENAMETOOLONG, "socket path \(path) is \(bytes.count) bytes; the limit is \(maximumPathLength): use a shorter --run-dir")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    private static func makeSocket(_ type: Int32) throws -> FileDescriptor {
        FileDescriptor(rawValue: try syscall("socket") { socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0) })
    }

    /// Binds and listens on `path` with the given file mode. The caller
    /// decides beforehand what to do with a file already there.
    public static func listen(at path: String, mode: mode_t, backlog: Int32 = 1024) throws -> FileDescriptor {
        let fd = try makeSocket(Int32(SOCK_STREAM.rawValue))
        do {
            _ = try withAddress(path) { address, length in
                try syscall("bind(\(path))") { bind(fd.rawValue, address, length) }
            }
            _ = try syscall("chmod(\(path))") { chmod(path, mode) }
            _ = try syscall("listen(\(path))") { Glibc.listen(fd.rawValue, backlog) }
            return fd
        } catch {
            fd.close()
            throw error
        }
    }

    /// A blocking connection to `path`.
    public static func connect(to path: String) throws -> FileDescriptor {
        let fd = try makeSocket(Int32(SOCK_STREAM.rawValue))
        do {
            _ = try withAddress(path) { address, length in
                try syscall("connect(\(path))") { Glibc.connect(fd.rawValue, address, length) }
            }
            return fd
        } catch {
            fd.close()
            throw error
        }
    }

    /// Who listens on a socket file, as a connection that never waits
    /// finds out.
    public enum ListenerProbe: Equatable {
        /// Nobody: no such file, not a socket, or nothing listens on it
        /// (left by a killed process).
        case nobody
        /// A connection was queued; `listenerPID` is the process that
        /// called listen() (SO_PEERCRED), which may since have died while
        /// another process holds the socket open.
        case listening(listenerPID: pid_t)
        /// A live listener whose backlog is full: it accepts nothing.
        case backlogFull
    }

    /// Connects to `path` without waiting, so a listener that accepts
    /// nothing cannot hang the caller, and hangs up at once.
    public static func probeListener(at path: String) -> ListenerProbe {
        guard let fd = try? FileDescriptor(rawValue: syscall("socket") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }) else { return .nobody }
        defer { fd.close() }
        let connected = (try? withAddress(path) { address, length in Glibc.connect(fd.rawValue, address, length) }) ?? -1
        if connected == 0 { return .listening(listenerPID: PeerCredentials.of(fd).pid) }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .backlogFull : .nobody
    }

    /// Accepts one pending connection, non-blocking and close-on-exec;
    /// nil when none is waiting.
    public static func accept(_ listener: FileDescriptor) throws -> FileDescriptor? {
        while true {
            let fd = berth_accept_nonblocking(listener.rawValue)
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw Errno.current("accept")
            }
        }
    }

    /// A connected pair of message-preserving sockets (host <-> worker channel).
    public static func seqpacketPair() throws -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [0, 0]
        _ = try syscall("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Bounds how long a blocking read waits (clients and tests must never
    /// hang forever on a dead peer).
    public static func setReceiveTimeout(_ fd: FileDescriptor, seconds: Double) throws {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        _ = try syscall("setsockopt(SO_RCVTIMEO)") {
            setsockopt(fd.rawValue, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Sends one datagram, optionally carrying a file descriptor. With
    /// `wait` false, returns false instead of waiting for room.
    @discardableResult
    public static func sendMessage(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, passing: FileDescriptor? = nil,
                                   wait: Bool = true) throws -> Bool {
        while true {
            if berth_send_with_fd(fd.rawValue, bytes.baseAddress, bytes.count, passing?.rawValue ?? -1, wait ? 0 : 1) >= 0 {
                return true
            }
            if errno == EINTR { continue }
            if !wait && (errno == EAGAIN || errno == EWOULDBLOCK) { return false }
            throw Errno.current("sendmsg")
        }
    }

    /// What one receive found.
    public enum Received {
        /// A datagram of `count` bytes, and the fd it carried.
        case datagram(count: Int, fd: FileDescriptor?)
        /// Nothing to read yet (only when not waiting).
        case wouldBlock
        /// The peer closed its end.
        case end
    }

    /// Receives one datagram into `buffer`. A datagram larger than the
    /// buffer throws EMSGSIZE: it is never cut silently.
    public static func receiveMessage(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer,
                                      wait: Bool = true) throws -> Received {
        var received: Int32 = -1
        while true {
            let n = berth_recv_with_fd(fd.rawValue, buffer.baseAddress, buffer.count, &received, wait ? 0 : 1)
            if n > 0 || (n == 0 && received >= 0) {
                return .datagram(count: n, fd: received >= 0 ? FileDescriptor(rawValue: received) : nil)
            }
            if n == 0 { return .end }
            if errno == EINTR { continue }
            if !wait && (errno == EAGAIN || errno == EWOULDBLOCK) { return .wouldBlock }
            throw Errno.current("recvmsg")
        }
    }
}
