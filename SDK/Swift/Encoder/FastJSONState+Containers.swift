// Values ("slots"), the containers they open, and how containers nest and
// close. A keyed container writes `{` when it is opened, then `,"key":value`
// per encode call; an unkeyed one `[` then `,value`. The closing `}` / `]`
// is written when the `encode(to:)` of the value that opened the container
// returns. Containers from `nestedContainer` close when their parent is
// written to again or the value ends. Every container remembers the frame
// (stack entry) it writes to, so misuse is detected and handed to the
// fallback instead of writing misplaced bytes.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift,
// `__JSONEncoder`, `_JSONKeyedEncodingContainer`, `_JSONUnkeyedEncodingContainer`,
// and JSONWriter.swift):
//   - a value that encodes nothing: `{}` when nested, an error at the top
//     level ("Top-level T did not encode any values.") (`endSlot`: both
//     via the fallback);
//   - two containers asked for by one value are merged, as
//     `super.encode(to: encoder)` relies on (`openSlotContainer`: fallback);
//   - a single-value container encodes once: JSONEncoder stops the process
//     (a precondition) on a second value; it is detected here and left to
//     JSONEncoder (`claimSingleValue`);
//   - containers stay writable as long as their encoder's tree exists, in
//     any order (`enter`: a write a stream cannot place goes to the fallback);
//   - JSONWriter refuses 512 levels of nesting (`maximumRecursionDepth`;
//     `pushFrame`: the fallback decides well before that depth).

import Foundation

extension FastJSONState {
    /// JSONWriter refuses nesting of 512 and more; stay clear of it and let
    /// Foundation decide.
    private static let maximumDepth = 500

    struct SavedSlot {
        let start: Int
        let state: SlotState
        let id: Int
    }

    /// Starts a value: whatever container it asks for is its own.
    @inline(__always)
    mutating func beginSlot() -> SavedSlot {
        let saved = SavedSlot(start: slotStart, state: slotState, id: slotID)
        slotStart = frames.count
        slotState = .empty
        slotID = nextSlotID
        nextSlotID &+= 1
        return saved
    }

    /// Ends a value whose encode(to:) returned: closes its container.
    @inline(__always)
    mutating func endSlot(_ saved: SavedSlot) throws {
        switch slotState {
        case .written:
            break
        case .container:
            // Close the value's container and any nested ones left open.
            while frames.count > slotStart { try closeTop() }
        case .empty, .singleRequested:
            // Nothing encoded: JSONEncoder writes {} when nested and fails
            // at the top level; let it.
            throw fail()
        }
        slotStart = saved.start
        slotState = saved.state
        slotID = saved.id
    }

    /// A container asked for by the current value (not a nested one).
    mutating func openSlotContainer(isObject: Bool) -> (Int, Int) {
        guard !failed, slotState == .empty || slotState == .singleRequested,
              frames.count == slotStart else {
            // A second container for one value (JSONEncoder merges them).
            failed = true
            return (-1, -1)
        }
        slotState = .container
        return pushFrame(isObject: isObject, isNested: false)
    }

    /// A single-value container of slot `slot` is about to write its value.
    @inline(__always)
    mutating func claimSingleValue(_ slot: Int) throws {
        guard slot == slotID, slotState == .empty || slotState == .singleRequested,
              frames.count == slotStart, !failed else {
            // Encoding twice, or after a container was opened, or after the
            // value it belonged to ended.
            throw fail()
        }
        slotState = .written
    }

    /// A container opened with nestedContainer, after its key or comma has
    /// been written.
    mutating func openNested(isObject: Bool) -> (Int, Int) {
        pushFrame(isObject: isObject, isNested: true)
    }

    private mutating func pushFrame(isObject: Bool, isNested: Bool) -> (Int, Int) {
        guard frames.count < Self.maximumDepth else {
            failed = true
            return (-1, -1)
        }
        let id = nextFrameID
        nextFrameID &+= 1
        frames.append(Frame(id: id, isObject: isObject, isNested: isNested, keyBase: keyRanges.count))
        writeByte(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
        return (frames.count - 1, id)
    }

    /// Checks that the container of frame `index` may be written now, closing
    /// nested containers of it that are still open.
    @inline(__always)
    mutating func enter(_ index: Int, _ id: Int) throws {
        if index == frames.count &- 1, index >= slotStart, !failed, frames[index].id == id { return }
        try enterSlow(index, id)
    }

    @inline(never)
    private mutating func enterSlow(_ index: Int, _ id: Int) throws {
        guard !failed, index >= slotStart, index >= 0, index < frames.count, frames[index].id == id else {
            throw fail()
        }
        while frames.count - 1 > index {
            guard frames[frames.count - 1].isNested else { throw fail() }
            try closeTop()
        }
    }

    /// Elements or keys written so far into the container of frame `index`.
    func elementCount(_ index: Int, _ id: Int) -> Int {
        index >= 0 && index < frames.count && frames[index].id == id ? frames[index].count : 0
    }

    private mutating func closeTop() throws {
        let frame = frames.removeLast()
        if frame.isObject {
            if frame.count > 1, frame.unsorted || frame.escapedKey {
                if frame.escapedKey { throw fail() }
                try sortObject(frame)
            }
            keyRanges.count = frame.keyBase
            writeByte(UInt8(ascii: "}"))
        } else {
            writeByte(UInt8(ascii: "]"))
        }
    }

    /// Before an element of the array in frame `index`.
    @inline(__always)
    mutating func writeElementSeparator(_ index: Int) {
        if frames[index].count > 0 { writeByte(UInt8(ascii: ",")) }
        frames[index].count &+= 1
    }
}
