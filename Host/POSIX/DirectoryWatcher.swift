import CBerthShims
import Glibc

/// Tells when files in a directory change (inotify), coalescing a burst of
/// changes (a cp writing in pieces, several files copied at once) into one
/// call after a quiet period.
public final class DirectoryWatcher {
    private let fd: FileDescriptor
    private let loop: EventLoop
    private let quietSeconds: Double
    private let changed: () -> Void
    private var pending: EventLoop.TimerID?

    public init(_ path: String, loop: EventLoop, quietSeconds: Double = 0.5, changed: @escaping () -> Void) throws {
        var watch: Int32 = 0
        fd = FileDescriptor(rawValue: try syscall("inotify_add_watch(\(path))") { berth_inotify_watch_directory(path, &watch) })
        self.loop = loop
        self.quietSeconds = quietSeconds
        self.changed = changed
        try loop.register(fd, .readable) { [unowned self] _ in self.eventsArrived() }
    }

    deinit {
        loop.unregister(fd)
        fd.close()
    }

    private func eventsArrived() {
        _ = berth_inotify_drain(fd.rawValue)
        if let pending { loop.cancel(pending) }
        pending = loop.schedule(afterSeconds: quietSeconds) { [unowned self] in
            self.pending = nil
            self.changed()
        }
    }
}
