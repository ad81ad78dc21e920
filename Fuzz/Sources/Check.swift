import Glibc

/// A broken invariant: say which, with the input's size, and abort, so
/// libFuzzer saves the input as a crash file (its path is printed after).
func check(_ condition: @autoclosure () -> Bool, _ what: @autoclosure () -> String,
           file: StaticString = #fileID, line: UInt = #line) {
    if condition() { return }
    let message = "invariant broken at \(file):\(line): \(what())\n"
    _ = message.withCString { fputs($0, stderr) }
    abort()
}

/// Bytes as text for a failure message, invalid UTF-8 repaired.
func show<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
}

func isBlank<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
    bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
}
