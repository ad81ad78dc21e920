// A streaming JSON encoder for handler results. Foundation's JSONEncoder
// builds a tree of enum values and dictionaries, sorts it and serialises it;
// for a small struct that is most of a request's CPU. This writer appends the
// JSON text straight into one reusable byte buffer instead.
//
// Output: byte for byte what `JSONEncoder` with
// `[.sortedKeys, .withoutEscapingSlashes]` (the SDK's configuration since the
// start) produces. In particular keys are SORTED (by their UTF-8 bytes, as
// swift-foundation's `.sortedKeys` does on Linux), not emitted in declaration
// order: the same value gives the same bytes in every process (Dictionary
// order changes per process), and clients, tests and caches that compare
// bodies keep working. It is cheap: each key is compared with the previous one
// of its object as it is written, and only an object whose keys arrive out of
// order (a dictionary, or a struct whose properties are not declared
// alphabetically) is reordered in place when it closes.
//
// How it streams: a keyed container writes `{` when it is opened, then
// `,"key":value` per encode call; an unkeyed one `[` then `,value`. The
// closing `}` / `]` is written when the `encode(to:)` of the value that opened
// the container returns. Containers from `nestedContainer` close when their
// parent is written to again or the value ends. Every container remembers the
// frame (stack entry) it writes to, so misuse is detected.
//
// Whatever a streaming writer cannot reproduce exactly makes the whole value
// be encoded again by Foundation's JSONEncoder (the "fallback"), so the result
// is always what JSONEncoder gives, errors included:
//   - superEncoder(), reading codingPath (only error paths do);
//   - writing to an outer container while a nested value is being encoded, or
//     to a nested container after its parent moved on;
//   - a value that asks for two containers, or encodes twice through a
//     single-value container, or encodes nothing;
//   - duplicate keys (JSONEncoder keeps the last), keys needing escapes in an
//     object with more than one key, nesting deeper than JSONEncoder allows;
//   - any error thrown while encoding (non-finite floats, a throwing
//     `encode(to:)`): Foundation then throws its own error, so the
//     `encode_failed` message names the same path as before.
// Date, Data, URL and Decimal get JSONEncoder's special treatment (seconds
// since 2001, base64, absoluteString, decimal text), written directly.
//
// Threading: the host calls handlers one at a time on one thread per worker
// (berth.h, "Threading"), so one encoder and one buffer serve the process. A
// nested call (only possible from tests) falls back to Foundation.

import Foundation

/// Entry points of the streaming encoder.
enum FastJSON {
    /// Encodes `value` and calls `body` with the JSON bytes, which are valid
    /// only during the call (the buffer is reused by the next encoding).
    static func withEncoded<T: Encodable, R>(_ value: T, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let encoder = FastJSONEncoder.shared
        if !encoder.busy {
            encoder.busy = true
            defer { encoder.busy = false }
            if encoder.encodeTopLevel(value) {
                return try body(encoder.writtenBytes)
            }
        }
        let data = try foundationEncode(value)
        return try data.withUnsafeBytes(body)
    }

    /// The JSON bytes of `value` as an array (tests, convenience).
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try withEncoded(value) { Array($0) }
    }

    /// True when the streaming writer produces `value` by itself, without
    /// the Foundation fallback (for tests).
    static func encodesWithoutFallback<T: Encodable>(_ value: T) -> Bool {
        let encoder = FastJSONEncoder.shared
        guard !encoder.busy else { return false }
        encoder.busy = true
        defer { encoder.busy = false }
        return encoder.encodeTopLevel(value)
    }

    /// What the SDK used before, and still uses when the streaming writer
    /// cannot be sure of the result.
    static func foundationEncode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        // Sorted: on Linux the key order is otherwise arbitrary, and the
        // same value should give the same bytes (tests, caches, diffs).
        // Unescaped "/": "a\/b" is legal JSON but surprises people.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// Thrown inside the streaming writer to abandon it; never escapes
/// `FastJSON` (the value is encoded again by Foundation instead).
struct FastJSONFallback: Error {}

/// The `Encoder` handed to `encode(to:)`. Its state lives in a
/// `FastJSONState` behind a pointer, which the containers share: no
/// reference counting or exclusivity checks on the per-byte paths.
final class FastJSONEncoder: Encoder {
    /// The one instance of the process, never freed.
    nonisolated(unsafe) static let shared = FastJSONEncoder()

    /// True while an encoding is in progress or its bytes are being read.
    @exclusivity(unchecked) var busy = false

    let state: UnsafeMutablePointer<FastJSONState>

    // Types JSONEncoder treats specially, and primitives worth a shortcut.
    private let stringType = ObjectIdentifier(String.self)
    private let intType = ObjectIdentifier(Int.self)
    private let doubleType = ObjectIdentifier(Double.self)
    private let boolType = ObjectIdentifier(Bool.self)
    private let dateType = ObjectIdentifier(Date.self)
    private let dataType = ObjectIdentifier(Data.self)
    private let urlType = ObjectIdentifier(URL.self)
    private let decimalType = ObjectIdentifier(Decimal.self)

    private init() {
        state = .allocate(capacity: 1)
        state.initialize(to: FastJSONState())
        state.pointee.encoder = .passUnretained(self)
    }

    var writtenBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: state.pointee.bytes, count: state.pointee.count)
    }

    /// Encodes `value` into the buffer; false when the result must come from
    /// Foundation instead.
    func encodeTopLevel<T: Encodable>(_ value: T) -> Bool {
        state.pointee.reset()
        do {
            try encodeValue(value)
        } catch {
            return false
        }
        return !state.pointee.failed && state.pointee.frames.count == 0
    }

    // MARK: Encoder

    var codingPath: [CodingKey] {
        // Only error paths read it. Keeping it would cost on every value, so
        // hand the job to Foundation, which has the real path.
        state.pointee.failed = true
        return []
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let (index, id) = state.pointee.openSlotContainer(isObject: true)
        return keyedContainer(Key.self, index, id)
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        let (index, id) = state.pointee.openSlotContainer(isObject: false)
        return FastUnkeyedContainer(state: state, index: index, id: id)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        if state.pointee.slotState == .empty { state.pointee.slotState = .singleRequested }
        return FastSingleValueContainer(state: state, slot: state.pointee.slotID)
    }

    // MARK: Values

    /// Encodes one value at the current position: after a key, as an array
    /// element, or at the top level.
    func encodeValue<T: Encodable>(_ value: T) throws {
        let type = ObjectIdentifier(T.self)
        if type == stringType { state.pointee.writeString(Self.load(value, as: String.self)); return }
        if type == intType { state.pointee.writeInt(Int64(Self.load(value, as: Int.self))); return }
        if type == doubleType { try state.pointee.writeDouble(Self.load(value, as: Double.self)); return }
        if type == boolType { state.pointee.writeBool(Self.load(value, as: Bool.self)); return }
        if type == dateType || type == dataType || type == urlType || type == decimalType {
            return try encodeFoundationValue(value, type)
        }

        let saved = state.pointee.beginSlot()
        do {
            try value.encode(to: self)
        } catch {
            state.pointee.failed = true
            throw error
        }
        try state.pointee.endSlot(saved)
    }

    /// JSONEncoder's default strategies for its special types.
    private func encodeFoundationValue<T>(_ value: T, _ type: ObjectIdentifier) throws {
        if type == dateType {
            // .deferredToDate: Date encodes its timeIntervalSinceReferenceDate.
            try state.pointee.writeDouble(Self.load(value, as: Date.self).timeIntervalSinceReferenceDate)
        } else if type == dataType {
            state.pointee.writeString(Self.load(value, as: Data.self).base64EncodedString())  // .base64
        } else if type == urlType {
            state.pointee.writeString(Self.load(value, as: URL.self).absoluteString)
        } else {
            state.pointee.writeRaw(Self.load(value, as: Decimal.self).description)
        }
    }

    /// `value` as `U`; the caller has checked that T is U.
    @inline(__always)
    private static func load<T, U>(_ value: T, as: U.Type) -> U {
        unsafeBitCast(value, to: U.self)
    }

    // MARK: Reusing keyed containers

    // `KeyedEncodingContainer(x)` costs three generic-metadata lookups (the
    // container type, its conformance, the stdlib's box type) and a heap box
    // for every object encoded: more than writing a small struct. So boxes
    // are kept, per key type, and handed out again once nobody else holds
    // them (the box is uniquely referenced by this cache), with their
    // FrameRef pointed at the new frame. A KeyedEncodingContainer is a
    // struct holding just that box reference; that is checked once below,
    // and if it ever stops being true, boxes are simply not reused.

    private static let maximumCachedBoxes = 32
    @exclusivity(unchecked) private var boxKeyTypes: [ObjectIdentifier] = []
    @exclusivity(unchecked) private var boxes: [AnyObject] = []
    @exclusivity(unchecked) private var boxFrames: [FrameRef] = []
    private let canReuseBoxes = FastJSONEncoder.containerIsBareBox()

    /// Checks, once, that a KeyedEncodingContainer is nothing but a
    /// reference to its box: same size, the reference is uniquely held once
    /// the container is gone, and turning it back into a container reaches
    /// the container inside.
    private static func containerIsBareBox() -> Bool {
        enum ProbeKey: CodingKey { case probe }
        typealias Container = KeyedEncodingContainer<ProbeKey>
        guard MemoryLayout<Container>.size == MemoryLayout<AnyObject>.size,
              MemoryLayout<Container>.alignment == MemoryLayout<AnyObject>.alignment else { return false }
        let probe = UnsafeMutablePointer<FastJSONState>.allocate(capacity: 1)
        probe.initialize(to: FastJSONState())
        defer {
            probe.pointee.deallocateBuffers()
            probe.deinitialize(count: 1)
            probe.deallocate()
        }
        var box = unsafeBitCast(Container(FastKeyedContainer<ProbeKey>(state: probe, frame: FrameRef(7, 7))),
                                to: AnyObject.self)
        guard isKnownUniquelyReferenced(&box) else { return false }
        var container = unsafeBitCast(box, to: Container.self)
        // Frame 7 does not exist: the write is refused, which marks the
        // probe state failed, proving the call arrived.
        try? container.encodeNil(forKey: .probe)
        return probe.pointee.failed
    }

    func keyedContainer<Key: CodingKey>(_: Key.Type, _ index: Int, _ id: Int) -> KeyedEncodingContainer<Key> {
        guard canReuseBoxes else {
            return KeyedEncodingContainer(FastKeyedContainer<Key>(state: state, frame: FrameRef(index, id)))
        }
        let keyType = ObjectIdentifier(Key.self)
        var slot = 0
        while slot < boxes.count {
            if boxKeyTypes[slot] == keyType, isKnownUniquelyReferenced(&boxes[slot]) {
                let frame = boxFrames[slot]
                frame.index = index
                frame.id = id
                return unsafeBitCast(boxes[slot], to: KeyedEncodingContainer<Key>.self)
            }
            slot += 1
        }
        let frame = FrameRef(index, id)
        let container = KeyedEncodingContainer(FastKeyedContainer<Key>(state: state, frame: frame))
        if boxes.count < Self.maximumCachedBoxes {
            boxKeyTypes.append(keyType)
            boxes.append(unsafeBitCast(container, to: AnyObject.self))
            boxFrames.append(frame)
        }
        return container
    }
}

/// Everything the encoder and its containers change while writing.
struct FastJSONState {
    // MARK: Output buffer (reused; given back only after a very large value)

    private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    // MARK: Container stack

    struct Frame {
        /// Unique for the life of the process: a container whose frame has
        /// been closed (or belongs to an earlier encoding) never matches.
        var id: Int
        var isObject: Bool
        /// Opened by nestedContainer: closed implicitly when its parent is
        /// written to again or when the enclosing value ends.
        var isNested: Bool
        /// A key arrived that is not greater than the previous one.
        var unsorted = false
        /// A key needed escaping, so its bytes in the buffer do not sort
        /// like the key itself.
        var escapedKey = false
        /// Elements or keys written so far.
        var count = 0
        /// Index in `keyRanges` of this object's first key.
        var keyBase: Int
    }

    private(set) var frames = Stack<Frame>(capacity: 16)
    /// Per key of every open object: start and end offsets of the key's text
    /// (inside the quotes) in the buffer, for the order check and sorting.
    private var keyRanges = Stack<Int>(capacity: 64)
    /// Scratch space for sortObject.
    private var sortOrder = Stack<Int>(capacity: 16)
    private var sortBytes = Stack<UInt8>(capacity: 256)
    private var nextFrameID = 1

    // MARK: The value being encoded ("slot")

    enum SlotState { case empty, singleRequested, written, container }
    /// `frames.count` when the current value started: its own container,
    /// if it opens one, is frames[slotStart]; frames below belong to
    /// enclosing values and must not be written to until it returns.
    private var slotStart = 0
    var slotState = SlotState.empty
    private(set) var slotID = 0
    private var nextSlotID = 1

    /// Set when the streaming result cannot be trusted; sticky until the
    /// next top-level encoding, even if someone catches our error.
    var failed = false

    /// The encoder whose state this is (immortal, so unretained).
    var encoder: Unmanaged<FastJSONEncoder>?

    /// JSONWriter refuses nesting of 512 and more; stay clear of it and let
    /// Foundation decide.
    private static let maximumDepth = 500

    init() {
        capacity = 1024
        bytes = .allocate(capacity: capacity)
    }

    /// Frees the buffers (only for a state that is not the shared one).
    mutating func deallocateBuffers() {
        bytes.deallocate()
        frames.deallocate()
        keyRanges.deallocate()
        sortOrder.deallocate()
        sortBytes.deallocate()
    }

    /// Capacity kept between encodings; a buffer grown past it for one
    /// large response is given back before the next one.
    private static let retainedCapacity = 1 << 20

    mutating func reset() {
        if capacity > Self.retainedCapacity {
            bytes.deallocate()
            capacity = 1024
            bytes = .allocate(capacity: capacity)
        }
        if sortBytes.capacity > Self.retainedCapacity {
            sortBytes.deallocate()
            sortBytes = Stack(capacity: 256)
        }
        count = 0
        frames.count = 0
        keyRanges.count = 0
        failed = false
        slotStart = 0
        slotState = .empty
        slotID = 0
    }

    @inline(never)
    mutating func fail() -> FastJSONFallback {
        failed = true
        return FastJSONFallback()
    }

    // MARK: Slots and frames

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
    private mutating func sortObject(_ frame: Frame) throws {
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

    // MARK: Writing bytes

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(count + n) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBytes.update(from: bytes, count: count)
        bytes.deallocate()
        bytes = newBytes
        capacity = newCapacity
    }

    @inline(__always)
    mutating func writeByte(_ byte: UInt8) {
        reserve(1)
        bytes[count] = byte
        count &+= 1
    }

    @inline(__always)
    private mutating func writeBytes(_ source: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (bytes + count).update(from: source, count: n)
        count &+= n
    }

    private mutating func writeStatic(_ text: StaticString) {
        writeBytes(text.utf8Start, text.utf8CodeUnitCount)
    }

    /// Text known to need no escaping (numbers).
    mutating func writeRaw(_ text: String) {
        var text = text
        text.withUTF8 { writeBytes($0.baseAddress!, $0.count) }
    }

    mutating func writeNull() { writeStatic("null") }

    mutating func writeBool(_ value: Bool) { value ? writeStatic("true") : writeStatic("false") }

    mutating func writeInt(_ value: Int64) {
        if value < 0 {
            writeByte(UInt8(ascii: "-"))
            writeUInt(value.magnitude)
        } else {
            writeUInt(UInt64(value))
        }
    }

    mutating func writeUInt(_ value: UInt64) {
        var digits = 1
        var rest = value
        while rest >= 10 { rest /= 10; digits &+= 1 }
        reserve(digits)
        var position = count &+ digits
        rest = value
        repeat {
            position &-= 1
            bytes[position] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
            rest /= 10
        } while rest > 0
        count &+= digits
    }

    /// JSONEncoder's number text: `description` without a trailing ".0".
    mutating func writeDouble(_ value: Double) throws {
        guard value.isFinite else { throw fail() }
        // Integral values below 2^53 print as "N.0": write N directly.
        if value.rounded(.towardZero) == value, value.magnitude < 9007199254740992 {
            if value == 0 {
                value.sign == .minus ? writeStatic("-0") : writeByte(UInt8(ascii: "0"))
            } else {
                writeInt(Int64(value))
            }
            return
        }
        writeFloatText(value.description)
    }

    mutating func writeFloat(_ value: Float) throws {
        guard value.isFinite else { throw fail() }
        writeFloatText(value.description)
    }

    private mutating func writeFloatText(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var n = utf8.count
            if n >= 2, utf8[n - 2] == UInt8(ascii: "."), utf8[n - 1] == UInt8(ascii: "0") { n -= 2 }
            writeBytes(utf8.baseAddress!, n)
        }
    }

    /// Writes `value` quoted and escaped as JSONEncoder does (control
    /// characters, quote and backslash; "/" is left alone). Returns true
    /// when something had to be escaped.
    @discardableResult
    mutating func writeString(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { utf8 in
            let n = utf8.count
            guard n > 0, let source = utf8.baseAddress else {
                writeStatic("\"\"")
                return false
            }
            reserve(n &+ 2)
            let start = count
            let destination = bytes + start
            destination[0] = UInt8(ascii: "\"")
            if !Self.anyNeedsEscape(source, n) {
                Self.copy(destination + 1, source, n)
                destination[n &+ 1] = UInt8(ascii: "\"")
                count = start &+ n &+ 2
                return false
            }
            count = start &+ 1
            writeEscaped(source, n)
            return true
        }
    }

    /// memcpy for the short strings JSON is mostly made of, without a call:
    /// two overlapping loads and stores cover 1...16 bytes.
    @inline(__always)
    private static func copy(_ destination: UnsafeMutablePointer<UInt8>, _ source: UnsafePointer<UInt8>, _ n: Int) {
        let to = UnsafeMutableRawPointer(destination), from = UnsafeRawPointer(source)
        if n > 16 {
            to.copyMemory(from: from, byteCount: n)
        } else if n >= 8 {
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: n &- 8, as: UInt64.self)
        } else if n >= 4 {
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: n &- 4, as: UInt32.self)
        } else if n >= 2 {
            let head = from.loadUnaligned(as: UInt16.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 2, as: UInt16.self)
            to.storeBytes(of: head, as: UInt16.self)
            to.storeBytes(of: tail, toByteOffset: n &- 2, as: UInt16.self)
        } else if n == 1 {
            destination[0] = source[0]
        }
    }

    /// Whether any of the `n` bytes needs escaping, eight at a time: whole
    /// words, then the last eight bytes (overlapping), or for short text a
    /// word padded with harmless bytes. No per-byte branches.
    @inline(__always)
    private static func anyNeedsEscape(_ source: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let raw = UnsafeRawPointer(source)
        if n < 8 {
            // Two overlapping loads cover every byte; 'a's fill the rest.
            let word: UInt64
            if n >= 4 {
                word = UInt64(raw.loadUnaligned(as: UInt32.self))
                    | UInt64(raw.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)) << 32
            } else if n >= 2 {
                word = UInt64(raw.loadUnaligned(as: UInt16.self))
                    | UInt64(raw.loadUnaligned(fromByteOffset: n &- 2, as: UInt16.self)) << 16
                    | 0x6161_6161_0000_0000
            } else {
                word = UInt64(source[0]) | 0x6161_6161_6161_6100
            }
            return needsEscape(word)
        }
        var i = 0
        while i &+ 8 < n {
            if needsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return true }
            i &+= 8
        }
        return needsEscape(raw.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self))
    }

    /// True when one of the eight bytes is below 0x20, '"' or '\\'
    /// (the classic "has byte less than / equal to" bit tricks; exact).
    @inline(__always)
    private static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return (control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)) & highs != 0
    }

    @inline(never)
    private mutating func writeEscaped(_ source: UnsafePointer<UInt8>, _ n: Int) {
        var mark = 0
        var i = 0
        while i < n {
            let byte = source[i]
            if byte >= 0x20 && byte != 0x22 && byte != 0x5C { i += 1; continue }
            if i > mark { writeBytes(source + mark, i - mark) }
            switch byte {
            case 0x22: writeStatic("\\\"")
            case 0x5C: writeStatic("\\\\")
            case 0x08: writeStatic("\\b")
            case 0x0C: writeStatic("\\f")
            case 0x0A: writeStatic("\\n")
            case 0x0D: writeStatic("\\r")
            case 0x09: writeStatic("\\t")
            default:
                let hex: StaticString = "0123456789abcdef"
                writeStatic("\\u00")
                writeByte(hex.utf8Start[Int(byte >> 4)])
                writeByte(hex.utf8Start[Int(byte & 0xF)])
            }
            i += 1
            mark = i
        }
        if i > mark { writeBytes(source + mark, i - mark) }
        writeByte(UInt8(ascii: "\""))
    }
}

// MARK: - Containers

// Containers hold the state pointer (and reach the immortal encoder through
// it, unretained): calling them does no reference counting.

/// The frame a keyed container writes to; changed when its box is reused.
final class FrameRef {
    @exclusivity(unchecked) var index: Int
    @exclusivity(unchecked) var id: Int
    init(_ index: Int, _ id: Int) {
        self.index = index
        self.id = id
    }
}

private struct FastKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: UnsafeMutablePointer<FastJSONState>
    /// Read without reference counting on every call; `owner` keeps it alive.
    unowned(unsafe) let frame: FrameRef
    private let owner: FrameRef

    init(state: UnsafeMutablePointer<FastJSONState>, frame: FrameRef) {
        self.state = state
        self.frame = frame
        owner = frame
    }

    private var encoder: Unmanaged<FastJSONEncoder> { state.pointee.encoder.unsafelyUnwrapped }

    var codingPath: [CodingKey] {
        state.pointee.failed = true
        return []
    }

    @inline(__always)
    private func key(_ key: Key) throws {
        let index = frame.index
        try state.pointee.enter(index, frame.id)
        state.pointee.writeKey(index, key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws { try self.key(key); state.pointee.writeNull() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try self.key(key); state.pointee.writeBool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try self.key(key); state.pointee.writeString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try self.key(key); try state.pointee.writeDouble(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try self.key(key); try state.pointee.writeFloat(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try self.key(key); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try self.key(key); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try self.key(key); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try self.key(key); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try self.key(key); state.pointee.writeInt(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try self.key(key); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try self.key(key); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try self.key(key); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try self.key(key); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try self.key(key); state.pointee.writeUInt(value) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { try self.key(key); state.pointee.writeRaw(value.description) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try self.key(key); state.pointee.writeRaw(value.description) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try self.key(key)
        try encoder._withUnsafeGuaranteedRef { try $0.encodeValue(value) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let (index, id) = openNested(key, isObject: true)
        return encoder._withUnsafeGuaranteedRef { $0.keyedContainer(NestedKey.self, index, id) }
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let (index, id) = openNested(key, isObject: false)
        return FastUnkeyedContainer(state: state, index: index, id: id)
    }

    private func openNested(_ key: Key, isObject: Bool) -> (Int, Int) {
        do {
            try self.key(key)
        } catch {
            return (-1, -1)
        }
        return state.pointee.openNested(isObject: isObject)
    }

    mutating func superEncoder() -> Encoder { _ = state.pointee.fail(); return encoder.takeUnretainedValue() }
    mutating func superEncoder(forKey key: Key) -> Encoder { _ = state.pointee.fail(); return encoder.takeUnretainedValue() }
}

private struct FastUnkeyedContainer: UnkeyedEncodingContainer {
    // Three words: fits an existential's inline buffer (no allocation).
    let state: UnsafeMutablePointer<FastJSONState>
    let index: Int
    let id: Int

    private var encoder: Unmanaged<FastJSONEncoder> { state.pointee.encoder.unsafelyUnwrapped }

    /// Elements in the array so far.
    var count: Int { state.pointee.elementCount(index, id) }

    var codingPath: [CodingKey] {
        state.pointee.failed = true
        return []
    }

    @inline(__always)
    private mutating func element() throws {
        try state.pointee.enter(index, id)
        state.pointee.writeElementSeparator(index)
    }

    mutating func encodeNil() throws { try element(); state.pointee.writeNull() }
    mutating func encode(_ value: Bool) throws { try element(); state.pointee.writeBool(value) }
    mutating func encode(_ value: String) throws { try element(); state.pointee.writeString(value) }
    mutating func encode(_ value: Double) throws { try element(); try state.pointee.writeDouble(value) }
    mutating func encode(_ value: Float) throws { try element(); try state.pointee.writeFloat(value) }
    mutating func encode(_ value: Int) throws { try element(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try element(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try element(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try element(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try element(); state.pointee.writeInt(value) }
    mutating func encode(_ value: UInt) throws { try element(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try element(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try element(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try element(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try element(); state.pointee.writeUInt(value) }
    mutating func encode(_ value: Int128) throws { try element(); state.pointee.writeRaw(value.description) }
    mutating func encode(_ value: UInt128) throws { try element(); state.pointee.writeRaw(value.description) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try element()
        try encoder._withUnsafeGuaranteedRef { try $0.encodeValue(value) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let (index, id) = openNested(isObject: true)
        return encoder._withUnsafeGuaranteedRef { $0.keyedContainer(NestedKey.self, index, id) }
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let (index, id) = openNested(isObject: false)
        return FastUnkeyedContainer(state: state, index: index, id: id)
    }

    private mutating func openNested(isObject: Bool) -> (Int, Int) {
        do {
            try element()
        } catch {
            return (-1, -1)
        }
        return state.pointee.openNested(isObject: isObject)
    }

    mutating func superEncoder() -> Encoder { _ = state.pointee.fail(); return encoder.takeUnretainedValue() }
}

private struct FastSingleValueContainer: SingleValueEncodingContainer {
    let state: UnsafeMutablePointer<FastJSONState>
    let slot: Int

    private var encoder: Unmanaged<FastJSONEncoder> { state.pointee.encoder.unsafelyUnwrapped }

    var codingPath: [CodingKey] {
        state.pointee.failed = true
        return []
    }

    @inline(__always)
    private func claim() throws { try state.pointee.claimSingleValue(slot) }

    mutating func encodeNil() throws { try claim(); state.pointee.writeNull() }
    mutating func encode(_ value: Bool) throws { try claim(); state.pointee.writeBool(value) }
    mutating func encode(_ value: String) throws { try claim(); state.pointee.writeString(value) }
    mutating func encode(_ value: Double) throws { try claim(); try state.pointee.writeDouble(value) }
    mutating func encode(_ value: Float) throws { try claim(); try state.pointee.writeFloat(value) }
    mutating func encode(_ value: Int) throws { try claim(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try claim(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try claim(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try claim(); state.pointee.writeInt(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try claim(); state.pointee.writeInt(value) }
    mutating func encode(_ value: UInt) throws { try claim(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try claim(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try claim(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try claim(); state.pointee.writeUInt(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try claim(); state.pointee.writeUInt(value) }
    mutating func encode(_ value: Int128) throws { try claim(); state.pointee.writeRaw(value.description) }
    mutating func encode(_ value: UInt128) throws { try claim(); state.pointee.writeRaw(value.description) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try claim()
        // The value takes this slot's place: encodeValue opens a new slot
        // for it, and this one already counts as written.
        try encoder._withUnsafeGuaranteedRef { try $0.encodeValue(value) }
    }
}

/// A stack of trivial values in memory that is never freed and only grows:
/// the encoder's frames and key offsets, without Array's reference counting
/// and uniqueness checks on every access.
struct Stack<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    /// Setting it lower pops; never set it higher.
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    subscript(index: Int) -> Element {
        @inline(__always) unsafeAddress { UnsafePointer(base + index) }
        @inline(__always) nonmutating unsafeMutableAddress { base + index }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count &+= 1
    }

    func deallocate() { base.deallocate() }

    /// Makes room for `n` elements and sets the count to `n`; the elements
    /// are not initialised, so only for trivial types that are written
    /// before they are read.
    mutating func resize(to n: Int) {
        while capacity < n { grow() }
        count = n
    }

    @inline(__always)
    mutating func removeLast() -> Element {
        count &-= 1
        return base[count]
    }

    @inline(never)
    private mutating func grow() {
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity *= 2
    }
}
