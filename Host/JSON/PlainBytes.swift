import CBerthShims

/// Skipping the ordinary bytes inside a JSON string sixteen (SSE2, in
/// json_bytes.h) or eight (SWAR, near the end of the buffer) at a time: the
/// framer and the scanner both walk every string of every request, and
/// byte-at-a-time loops were a third of a worker's time on a 220-byte request.
public enum PlainBytes {
    /// The index of the first byte at or after `start` that is '"', '\\' or
    /// below 0x20 (a control character, newline included); `end` if none.
    @inline(__always)
    @inlinable public static func skip(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 16 <= end {
            let found = Int(berth_json_special16(base + i))
            if found < 16 { return i &+ found }
            i &+= 16
        }
        while i + 8 <= end {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let special = specialBytes(word)
            // The lowest flagged byte is exact (little-endian: lowest address).
            if special != 0 { return i + special.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let byte = base[i]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 { return i }
            i += 1
        }
        return end
    }

    /// `skip` for the validating walk: it also stops at any byte of 0x80
    /// or above, which the caller checks as UTF-8 (UTF8Sequence). Plain
    /// ASCII costs the same as in `skip`.
    @inline(__always)
    @inlinable public static func skipASCII(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 16 <= end {
            let found = Int(berth_json_stop16(base + i))
            if found < 16 { return i &+ found }
            i &+= 16
        }
        while i + 8 <= end {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let stop = specialBytes(word) | word & 0x8080_8080_8080_8080
            if stop != 0 { return i + stop.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let byte = base[i]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 || byte >= 0x80 { return i }
            i += 1
        }
        return end
    }

    /// The high bit of each byte of `word` that is '"', '\\' or below 0x20,
    /// from the classic "has zero byte" and "has less than" tests. Bytes
    /// above a flagged one may be flagged falsely (a borrow carries up), but
    /// the lowest flagged byte is always a real one, which is all `skip`
    /// needs.
    @inline(__always)
    @inlinable public static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        let quote = hasZero(word ^ (ones &* 0x22))
        let backslash = hasZero(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highs
        return quote | backslash | control
    }
}
