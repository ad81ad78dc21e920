// Sorted keys. Keys are SORTED (by their UTF-8 bytes), not emitted in
// declaration order: the same value gives the same bytes in every process
// (Dictionary order changes per process), and clients, tests and caches that
// compare bodies keep working. It is cheap: each key is compared with the
// previous one of its object as it is written, and only an object whose keys
// arrive out of order (a dictionary, or a struct whose properties are not
// declared alphabetically) is reordered in place when it closes.
//
// Mirrors from JSONEncoder (swift-foundation, JSONWriter.swift,
// `serializeObject`, and JSONEncoder.swift's `_JSONKeyedEncodingContainer`
// with `JSONFuture.RefObject`):
//   - `.sortedKeys` outside Apple's frameworks sorts keys by
//     `key.utf8.lexicographicallyPrecedes`: their UTF-8 bytes, shorter
//     first on a common prefix, as memcmp (`compareKeys`);
//   - a key encoded twice keeps its last value (the object is a
//     dictionary there): a duplicate met while sorting goes to the
//     fallback (`sortObject`); a duplicate among keys that arrived in order
//     is caught by the order check (equal counts as out of order);
//   - keys are escaped like strings (StringWriting.swift) and sorted by
//     their unescaped text: an object with more than one key and an escaped
//     key goes to the fallback, since its bytes in the buffer do not sort
//     like the keys (FastJSONState+Containers.swift, `closeTop`).

import Foundation

extension FastJSONState {
    /// Writes `,"key":` (no comma for the first) into the object in frame
    /// `index` and notes whether the keys are still in order.
    mutating func writeKey(_ index: Int, _ key: String) {
        let frame = UnsafeMutablePointer(mutating: frames.base + index)
        let first = frame.pointee.count == 0
        if !first { writeByte(UInt8(ascii: ",")) }
        frame.pointee.count &+= 1
        let start = count &+ 1
        if writeString(key) { frame.pointee.escapedKey = true }
        let end = count &- 1
        writeByte(UInt8(ascii: ":"))
        if !first, !frame.pointee.unsorted {
            let n = keyRanges.count
            if compareKeys(keyRanges[n &- 2], keyRanges[n &- 1], start, end) >= 0 {
                frame.pointee.unsorted = true
            }
        }
        keyRanges.append(start)
        keyRanges.append(end)
    }

    /// memcmp-style comparison of two key texts in the buffer.
    private func compareKeys(_ s1: Int, _ e1: Int, _ s2: Int, _ e2: Int) -> Int {
        let n1 = e1 - s1, n2 = e2 - s2
        let common = min(n1, n2)
        if common > 0 {
            let c = memcmp(bytes + s1, bytes + s2, common)
            if c != 0 { return Int(c) }
        }
        return n1 - n2
    }

    /// Reorders the members of a closing object by key: only objects whose
    /// keys did not arrive in order (dictionaries, structs whose properties
    /// are not declared alphabetically). Sorts indices, then rewrites the
    /// members from a copy; scratch memory is reused.
    mutating func sortObject(_ frame: Frame) throws {
        let n = frame.count, base = frame.keyBase
        let ranges = keyRanges
        func compare(_ a: Int, _ b: Int) -> Int {
            compareKeys(ranges[base &+ 2 &* a], ranges[base &+ 2 &* a &+ 1],
                        ranges[base &+ 2 &* b], ranges[base &+ 2 &* b &+ 1])
        }
        sortOrder.resize(to: n)
        let order = sortOrder.base
        for k in 0..<n { order[k] = k }
        if n <= 32 {
            // Insertion sort; a duplicate meets its twin on the way.
            for i in 1..<n {
                let x = order[i]
                var j = i &- 1
                while j >= 0 {
                    let c = compare(order[j], x)
                    if c == 0 { throw fail() }   // duplicate key: JSONEncoder keeps the last
                    if c < 0 { break }
                    order[j &+ 1] = order[j]
                    j &-= 1
                }
                order[j &+ 1] = x
            }
        } else {
            var buffer = UnsafeMutableBufferPointer(start: order, count: n)
            buffer.sort { compare($0, $1) < 0 }
            for i in 1..<n where compare(order[i &- 1], order[i]) == 0 { throw fail() }
        }
        // Member k spans from its key's opening quote to just before the
        // comma preceding member k+1 (or the end of the buffer).
        let regionStart = ranges[base] &- 1
        let regionEnd = count
        sortBytes.resize(to: regionEnd &- regionStart)
        let copy = sortBytes.base
        copy.update(from: bytes + regionStart, count: regionEnd &- regionStart)
        count = regionStart
        for position in 0..<n {
            let k = order[position]
            if position > 0 { writeByte(UInt8(ascii: ",")) }
            let start = ranges[base &+ 2 &* k] &- 1 &- regionStart
            let end = (k &+ 1 < n ? ranges[base &+ 2 &* (k &+ 1)] &- 2 : regionEnd) &- regionStart
            writeBytes(copy + start, end &- start)
        }
    }
}
