import Glibc

/// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET per state
/// change, so a `Type=notify` unit knows when berth is ready, reloading or
/// stopping. Does nothing when not run by systemd.
public enum SystemdNotifier {
    public static func ready() { send("READY=1\nSTATUS=serving") }

    /// MONOTONIC_USEC lets systemd (253+) match this to the reload it asked for.
    public static func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Clock.monotonicNanoseconds() / 1000)") }

    public static func stopping() { send("STOPPING=1") }

    static func send(_ message: String) {
        guard let path = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !path.isEmpty else { return }
        var bytes = Array(path.utf8)
        // "@name" is a socket in the abstract namespace: a leading NUL.
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < 108 else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let payload = Array(message.utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, length) }
            }
        }
    }
}
