import Foundation
import Glibc

enum WireError: Error, CustomStringConvertible, Equatable {
    /// The peer closed (EOF or reset) before a full line arrived.
    case closed(partial: String)
    /// SO_RCVTIMEO expired: the server never answered.
    case timedOut
    case system(String, Int32)

    var description: String {
        switch self {
        case .closed(let partial): return "connection closed by the server (partial line: \(partial.debugDescription))"
        case .timedOut: return "no answer within the socket's receive timeout"
        case .system(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        }
    }
}

/// A parsed response line.
struct WireResponse {
    let line: String
    let object: [String: Any]

    init(line: String) throws {
        self.line = line
        guard let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as? [String: Any] else {
            throw HarnessError("response is not a JSON object: \(line)")
        }
        object = parsed
    }

    var status: Int { (object["status"] as? NSNumber)?.intValue ?? -1 }
    var data: Any? { object["data"] }
    var dataObject: [String: Any]? { object["data"] as? [String: Any] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { (object["error"] as? [String: Any])?["message"] as? String }

    /// The id exactly as the server wrote it (it echoes the raw JSON sent).
    var rawID: String? {
        guard line.hasPrefix(#"{"id":"#), let end = line.range(of: #","status":"#) else { return nil }
        return String(line[line.index(line.startIndex, offsetBy: 6)..<end.lowerBound])
    }
}

/// Builds request lines. `data` and `id` are raw JSON text, so tests control
/// the exact bytes sent (and can check they come back unchanged).
enum WireRequest {
    static func line(_ method: String, _ path: String, token: String? = nil, data: String? = nil, id: String? = nil) -> String {
        var members: [String] = []
        if let id { members.append(#""id":"# + id) }
        members.append(#""method":"# + quote(method))
        members.append(#""path":"# + quote(path))
        if let token { members.append(#""auth_token":"# + quote(token)) }
        if let data { members.append(#""data":"# + data) }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func quote(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

/// A blocking Unix-socket client written against Glibc directly, so the
/// tests exercise the real socket and share no code with the host.
final class WireConnection {
    private(set) var fd: Int32 = -1
    private var buffer: [UInt8] = []

    /// Every socket gets send and receive timeouts: a test must fail, not
    /// hang, when a worker never answers.
    init(path: String, timeout: Double = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw WireError.system("socket", errno) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw HarnessError("socket path too long (\(bytes.count) bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let code = errno
            Glibc.close(fd)
            fd = -1
            throw WireError.system("connect(\(path))", code)
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Writes everything. MSG_NOSIGNAL: a server that closes early must show
    /// up as an error here, not as SIGPIPE killing the test runner.
    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WireError.system("send", errno)
            }
            sent += n
        }
    }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Reads one response line (without its newline).
    func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if try fill() == 0 {
                throw WireError.closed(partial: String(decoding: buffer, as: UTF8.self))
            }
        }
    }

    func readResponse() throws -> WireResponse { try WireResponse(line: try readLine()) }

    /// Sends one request line and reads its answer.
    func call(_ requestLine: String) throws -> WireResponse {
        try write(requestLine + "\n")
        return try readResponse()
    }

    func call(_ method: String, _ path: String, token: String? = nil, data: String? = nil, id: String? = nil) throws -> WireResponse {
        try call(WireRequest.line(method, path, token: token, data: data, id: id))
    }

    /// True when the server has closed its side and sent nothing more.
    func isClosedByServer() throws -> Bool {
        if !buffer.isEmpty { return false }
        return try fill() == 0
    }

    /// Reads more bytes into the buffer; 0 at end of stream (a reset counts
    /// as the end too: the server is gone either way).
    private func fill() throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return n
            }
            if n == 0 { return 0 }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: throw WireError.timedOut
            case ECONNRESET: return 0
            default: throw WireError.system("read", errno)
            }
        }
    }
}
