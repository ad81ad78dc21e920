import BerthJSON
import BerthPOSIX
import Glibc

/// A blocking client for the wire protocol (the CLI uses it). Like an HTTP
/// client with keep-alive, it retries a request once when a connection it
/// had already used was closed before a byte of the answer came: servers
/// close idle connections at any time (a reload drains them). A request
/// that fails on a fresh connection is not retried: it may be what crashed
/// the service.
public final class WireClient {
    private let path: String
    private var fd: FileDescriptor?
    private var pending: [UInt8] = []
    public var timeoutSeconds: Double

    public init(socketPath: String, timeoutSeconds: Double = 30) {
        self.path = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { fd?.close() }

    /// Builds a request line from its parts (`data` is raw JSON text).
    public static func requestLine(method: String, path: String, token: String?, data: String?, id: String? = nil) -> [UInt8] {
        var line = "{"
        if let id { line += "\"id\":\(id)," }
        line += "\"method\":\(JSONText.quote(method)),\"path\":\(JSONText.quote(path))"
        if let token { line += ",\"auth_token\":\(JSONText.quote(token))" }
        if let data { line += ",\"data\":\(data)" }
        return Array((line + "}\n").utf8)
    }

    /// Sends one request line and returns the response line (without "\n").
    public func send(_ line: [UInt8]) throws -> [UInt8] {
        let reused = fd != nil
        do {
            return try attempt(line)
        } catch let error as Errno where reused && (error.code == ECONNRESET || error.code == EPIPE) {
            reset()
            return try attempt(line)
        } catch let error as Errno where error.code == ECONNRESET || error.code == EPIPE {
            reset()
            throw Errno(error.code, "\(path) closed the connection without answering (did the plugin crash on this request? `berth status` and the host log say)")
        }
    }

    private func attempt(_ line: [UInt8]) throws -> [UInt8] {
        if fd == nil {
            let connected = try UnixSocket.connect(to: path)
            try UnixSocket.setReceiveTimeout(connected, seconds: timeoutSeconds)
            fd = connected
        }
        try fd!.writeAll(line)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let response = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return response
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = try chunk.withUnsafeMutableBytes { buffer in
                do {
                    return try fd!.read(into: buffer.baseAddress!, count: buffer.count)
                } catch let error as Errno where error.isWouldBlock {
                    throw Errno(ETIMEDOUT, "no answer from \(path) within \(timeoutSeconds) s")
                }
            }
            if n == 0 {
                if !pending.isEmpty { throw Errno(EPROTO, "\(path) closed the connection mid-answer") }
                throw Errno(ECONNRESET, "read")
            }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    private func reset() {
        fd?.close()
        fd = nil
        pending.removeAll()
    }
}
