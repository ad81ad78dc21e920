import BerthPOSIX
import BerthSupport
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
    /// Clears the way for a new socket at `path` without ever waiting on
    /// whoever is there: removes a stale socket file, refuses when a live
    /// process listens on it. Called only while holding the run
    /// directory's pid-file lock, so no other berth can be serving there: a
    /// socket whose listening process is gone (or had this process's pid:
    /// an earlier host in a container) was left by a killed host, and a
    /// process it started may still hold it open; it is replaced.
    public static func replaceIfStale(_ path: String) throws {
        guard Files.exists(path) else { return }
        switch probeListener(at: path) {
        case .nobody:
            break
        case .listening(let pid) where pid == getpid() || !ProcFS.isRunning(pid):
            let holders = ProcFS.holdersOfListeningSocket(boundTo: path)
            let who = holders.isEmpty ? "a process it started" : "pid " + holders.map(String.init).joined(separator: ", pid ") + ", started by its worker"
            Log.warn("\(path) was left by berth pid \(pid), which is gone, and is still held open by \(who); replacing it (that process gets no more connections: stop it)")
        case .listening(let pid):
            throw SocketInUse(description: "\(path) is in use by pid \(pid) (another berth on a copy of this run directory?); stop it or choose another --run-dir")
        case .backlogFull:
            throw SocketInUse(description: "\(path) has a listener that accepts no connections (its backlog is full); stop the process holding it (`ss -xlp | grep \(path)` names it) or choose another --run-dir")
        }
        Files.remove(path)
    }

    /// A socket path a live process holds.
    public struct SocketInUse: Error, CustomStringConvertible {
        public let description: String
    }
}
