import CBerthShims

/// The fast half of JSON validation: walks one value and says only whether
/// it is valid and where it ends. JSONScanner's recursive walk, which can say
/// what is wrong and where, runs only after this one has failed, so the two
/// must accept exactly the same bytes (the fuzz harness checks that they do).
///
/// Every request and every answer body is walked, so this is one loop over
/// a pointer with its state in locals and an explicit stack of open
/// containers: no recursion, no throwing, no reference counting. With the
/// 16-byte string test, the benchmark's 220-byte request takes it about
/// 1,900 instructions, where the recursive walk took 3,300.
public enum JSONSkipper {
    public enum Expecting { case value, key, separator }

    /// Just past the value that starts exactly at `start` (no whitespace
    /// before it), or nil when no valid value starts there. `depth` counts the
    /// containers already open around it, as in JSONScanner.scanValue.
    /// `lineBreak` is set when the whitespace inside the value holds a raw
    /// '\n' or '\r' (left alone on failure).
    @inline(__always)
    @inlinable public static func skipValue(_ base: UnsafePointer<UInt8>, count: Int, from start: Int, depth: Int,
                          lineBreak: inout Bool) -> Int? {
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: JSONScanner.maximumDepth) { stack in
            walk(base, count, start, depth, &lineBreak, stack.baseAddress!)
        }
    }

    /// `isObject` holds, for each open container, whether it is an object.
    @inlinable public static func walk(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ depth: Int, _ lineBreak: inout Bool,
                             _ isObject: UnsafeMutablePointer<Bool>) -> Int? {
        var i = start
        var open = 0
        var inObject = false
        var breaks = false
        var expecting = Expecting.value
        while true {
            switch expecting {
            case .value:
                i = skipSpace(p, n, i, &breaks)
                guard i < n else { return nil }
                let byte = p[i]
                switch byte {
                case UInt8(ascii: "\""):
                    var escapes = false
                    guard let end = skipString(p, n, i, &escapes) else { return nil }
                    i = end
                    expecting = .separator
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard depth &+ open < JSONScanner.maximumDepth else { return nil }
                    inObject = byte == UInt8(ascii: "{")
                    isObject[open] = inObject
                    open &+= 1
                    i = skipSpace(p, n, i &+ 1, &breaks)
                    guard i < n else { return nil }
                    if p[i] == byte &+ 2 { // '}' and ']' are two above '{' and '['
                        i &+= 1
                        open &-= 1
                        inObject = open > 0 && isObject[open &- 1]
                        expecting = .separator
                    } else {
                        expecting = inObject ? .key : .value
                    }
                case UInt8(ascii: "t"):
                    guard hasLiteral(p, n, i, "true") else { return nil }
                    i &+= 4
                    expecting = .separator
                case UInt8(ascii: "f"):
                    guard hasLiteral(p, n, i, "false") else { return nil }
                    i &+= 5
                    expecting = .separator
                case UInt8(ascii: "n"):
                    guard hasLiteral(p, n, i, "null") else { return nil }
                    i &+= 4
                    expecting = .separator
                default:
                    guard let end = skipNumber(p, n, i) else { return nil }
                    i = end
                    expecting = .separator
                }
            case .key:
                i = skipSpace(p, n, i, &breaks)
                var escapes = false
                guard i < n, p[i] == UInt8(ascii: "\""), let end = skipString(p, n, i, &escapes) else { return nil }
                i = skipSpace(p, n, end, &breaks)
                guard i < n, p[i] == UInt8(ascii: ":") else { return nil }
                i &+= 1
                expecting = .value
            case .separator:
                if open == 0 {
                    if breaks { lineBreak = true }
                    return i
                }
                i = skipSpace(p, n, i, &breaks)
                guard i < n else { return nil }
                let byte = p[i]
                if byte == UInt8(ascii: ",") {
                    i &+= 1
                    expecting = inObject ? .key : .value
                } else if byte == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i &+= 1
                    open &-= 1
                    inObject = open > 0 && isObject[open &- 1]
                } else {
                    return nil
                }
            }
        }
    }

    /// Past the whitespace at `i`. Compact JSON has none, so the common
    /// case is one comparison.
    @inline(__always)
    @inlinable public static func skipSpace(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ breaks: inout Bool) -> Int {
        var i = start
        while i < n {
            let byte = p[i]
            if byte > 0x20 { return i }
            if byte == 0x0A || byte == 0x0D {
                breaks = true
            } else if byte != 0x20 && byte != 0x09 {
                return i
            }
            i &+= 1
        }
        return i
    }

    /// Just past the string whose opening quote is at `start`, or nil when it
    /// is not a valid string (bad escapes, control bytes, or invalid UTF-8:
    /// see UTF8Sequence). `escapes` is set when it holds a backslash.
    ///
    /// Most strings are plain ASCII and shorter than 16 bytes: one SSE2
    /// test, inlined where the string is met, finds the closing quote. A
    /// call cost more than that test (saving registers, loading constants).
    @inline(__always)
    @inlinable public static func skipString(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ escapes: inout Bool) -> Int? {
        let first = start &+ 1
        if first &+ 16 <= n {
            let found = first &+ Int(berth_json_stop16(p + first))
            if found < first &+ 16 && p[found] == UInt8(ascii: "\"") { return found &+ 1 }
        } else if n >= 16 && first < n {
            // Near the end (the last string of a request or a body): the
            // buffer's last 16 bytes, without reading past them.
            let found = first &+ Int(berth_json_stop16_tail(p + (n &- 16), Int32(first &- (n &- 16))))
            if found < n && p[found] == UInt8(ascii: "\"") { return found &+ 1 }
        }
        return skipLongString(p, n, start, &escapes)
    }

    /// skipString's loop, for strings that are long, escaped, not ASCII,
    /// invalid or at the end of the buffer.
    @inline(never)
    @inlinable public static func skipLongString(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ escapes: inout Bool) -> Int? {
        var i = start &+ 1
        while true {
            i = PlainBytes.skipASCII(p, from: i, to: n)
            guard i < n else { return nil }
            let byte = p[i]
            if byte == UInt8(ascii: "\"") { return i &+ 1 }
            if byte >= 0x80 {
                guard let end = UTF8Sequence.skipRun(p, n, i) else { return nil }
                i = end
                continue
            }
            // What is left: '\\' or a control byte.
            guard byte == UInt8(ascii: "\\"), i &+ 1 < n else { return nil }
            escapes = true
            switch p[i &+ 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                 UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                i &+= 2
            case UInt8(ascii: "u"):
                guard i &+ 5 < n, isHex(p[i &+ 2]), isHex(p[i &+ 3]), isHex(p[i &+ 4]), isHex(p[i &+ 5]) else { return nil }
                i &+= 6
            default:
                return nil
            }
        }
    }

    @inline(__always)
    @inlinable public static func isHex(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || (byte | 0x20) &- UInt8(ascii: "a") < 6
    }

    @inline(__always)
    @inlinable public static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    @inlinable public static func hasLiteral(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ word: StaticString) -> Bool {
        let length = word.utf8CodeUnitCount
        guard i &+ length <= n else { return false }
        let text = word.utf8Start
        for k in 1..<length where p[i &+ k] != text[k] { return false }
        return true
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, as JSONScanner.scanNumber.
    @inline(__always)
    @inlinable public static func skipNumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int? {
        var i = start
        if p[i] == UInt8(ascii: "-") { i &+= 1 }
        guard i < n, isDigit(p[i]) else { return nil }
        if p[i] == UInt8(ascii: "0") {
            i &+= 1
        } else {
            while i < n && isDigit(p[i]) { i &+= 1 }
        }
        if i < n && p[i] == UInt8(ascii: ".") {
            i &+= 1
            guard i < n, isDigit(p[i]) else { return nil }
            while i < n && isDigit(p[i]) { i &+= 1 }
        }
        if i < n && (p[i] | 0x20) == UInt8(ascii: "e") {
            i &+= 1
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i &+= 1 }
            guard i < n, isDigit(p[i]) else { return nil }
            while i < n && isDigit(p[i]) { i &+= 1 }
        }
        return i
    }
}
