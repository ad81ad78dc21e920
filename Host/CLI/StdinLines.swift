import BerthPOSIX
import Glibc

/// The lines of standard input for `berth try`, read so that a signal
/// (Ctrl-C, SIGTERM) ends the wait: each wait is one poll on stdin and the
/// signal channel, so `berth try` can still stop its host and remove its
/// folder instead of dying of the signal.
final class StdinLines {
    enum Next {
        case line([UInt8])
        case end
        case signal(Int32)
    }

    private let signals: SignalChannel
    private var pending: [UInt8] = []
    private var ended = false

    init(signals: SignalChannel) { self.signals = signals }

    /// The next line without its "\n" (or "\r\n"); the last one may lack it.
    func next() -> Next {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return .line(line)
            }
            if ended {
                guard !pending.isEmpty else { return .end }
                defer { pending.removeAll() }
                return .line(pending)
            }
            var waiting = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signals.fd.rawValue, events: Int16(POLLIN), revents: 0)]
            guard poll(&waiting, 2, -1) > 0 else { continue } // EINTR
            if waiting[1].revents != 0, let signal = signals.drain().first { return .signal(signal) }
            guard waiting[0].revents != 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n > 0 {
                pending.append(contentsOf: chunk[0..<n])
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                ended = true
            }
        }
    }
}
