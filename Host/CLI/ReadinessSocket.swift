import BerthPOSIX
import Glibc

/// The receiving end of sd_notify: a datagram socket a child `berth serve`
/// is given as NOTIFY_SOCKET, so `berth try` learns the moment the host has
/// settled every plugin (READY=1, sent whether the plugin loaded or failed)
/// without reading its log.
final class ReadinessSocket {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno.current("socket(AF_UNIX, SOCK_DGRAM)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw Errno(ENAMETOOLONG, "socket path \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let error = Errno.current("bind(\(path))")
            Glibc.close(fd)
            throw error
        }
    }

    deinit { Glibc.close(fd) }

    enum Outcome: Equatable {
        case ready
        /// The child ended first: a host that could not start never says READY.
        case ended
        /// One of `signals` arrived (a Ctrl-C while a plugin's init runs).
        case signal(Int32)
    }

    /// Waits for READY=1, a signal, or the end of the child, which
    /// `stillRunning` checks between waits of a tenth of a second (a
    /// child's exit cannot be waited for in the same poll).
    func waitForReady(signals: SignalChannel, while stillRunning: () -> Bool) -> Outcome {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var waiting = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signals.fd.rawValue, events: Int16(POLLIN), revents: 0)]
            if poll(&waiting, 2, 100) > 0 {
                if waiting[1].revents != 0, let signal = signals.drain().first { return .signal(signal) }
                guard waiting[0].revents != 0 else { continue }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0, String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").contains("READY=1") { return .ready }
                continue
            }
            if !stillRunning() { return .ended }
        }
    }
}
