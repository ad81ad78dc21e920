import Glibc

/// A failed system call: the errno value and the call that set it, so a
/// message can say what was being done ("bind(run/x.sock): Address in use").
public struct Errno: Error, CustomStringConvertible, Equatable {
    public let code: Int32
    public let operation: String

    public init(_ code: Int32, _ operation: String) {
        self.code = code
        self.operation = operation
    }

    /// The errno the last call left behind.
    public static func current(_ operation: String) -> Errno { Errno(errno, operation) }

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }

    public static func == (a: Errno, b: Errno) -> Bool { a.code == b.code }

    public var isWouldBlock: Bool { code == EAGAIN || code == EWOULDBLOCK }
}

/// Runs a call that returns -1 and sets errno on failure, retrying EINTR.
@inline(__always)
public func syscall<T: BinaryInteger>(_ operation: @autoclosure () -> String, _ call: () -> T) throws -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        if errno == EINTR { continue }
        throw Errno.current(operation())
    }
}
