import BerthPOSIX
import Glibc

/// The listening sockets, one per plugin name. The host owns them, not the
/// workers: a restarted (or, later, reloaded) worker gets the same socket,
/// so clients never see it go away.
final class ListenerRegistry {
    private var listeners: [String: (fd: FileDescriptor, path: String)] = [:]

    /// The socket for `name`, created on first use. A socket file left by a
    /// killed earlier run is replaced; a live one is someone else's.
    func listener(for name: String, at path: String) throws -> FileDescriptor {
        if let existing = listeners[name] { return existing.fd }
        try UnixSocket.replaceIfStale(path)
        let fd = try UnixSocket.listen(at: path, mode: 0o660)
        listeners[name] = (fd, path)
        return fd
    }

    func remove(_ name: String) {
        guard let entry = listeners.removeValue(forKey: name) else { return }
        Files.remove(entry.path)
        entry.fd.close()
    }

    /// Removes every socket file first (new clients fail fast), then closes.
    func removeAll() {
        for name in Array(listeners.keys) { remove(name) }
    }
}

extension UnixSocket {
    /// Clears the way for a new socket at `path`: removes a stale socket
    /// file, refuses when a live process is accepting on it.
    public static func replaceIfStale(_ path: String) throws {
        guard Files.exists(path) else { return }
        if isLive(path) {
            throw Errno(EADDRINUSE, "\(path) is in use by a running process (another berth on the same run directory?); stop it or choose another --run-dir")
        }
        Files.remove(path)
    }
}
