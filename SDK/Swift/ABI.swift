// Helpers for reading the C ABI structs. Nothing here is public: plugin
// authors should never need to see a berth_str.
internal import CBerth
import Glibc

extension berth_str {
    /// A copy of the bytes. The host owns `ptr` only until the handler
    /// returns, so a Swift value may never keep pointing into it.
    var bytes: [UInt8] {
        guard let ptr, len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: ptr, count: len))
    }

    /// The bytes as UTF-8 text. Invalid sequences become U+FFFD rather than
    /// failing: the host validated JSON, but paths and queries are raw.
    var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }
}

/// A C string that lives as long as the process. Descriptor strings are
/// read by the host at any time, so they are deliberately never freed.
func immortalCString(_ string: String) -> UnsafePointer<CChar> {
    guard let copy = strdup(string) else { fatalError("BerthSDK: out of memory") }
    return UnsafePointer(copy)
}
