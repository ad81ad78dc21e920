// The `Encoder` handed to `encode(to:)`. Its state lives in a
// `FastJSONState` behind a pointer, which the containers share: no
// reference counting or exclusivity checks on the per-byte paths.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift,
// `__JSONEncoder`):
//   - `container(keyedBy:)`, `unkeyedContainer()`, `singleValueContainer()`
//     open the value's object, array or single value; asking twice is legal
//     there (the containers are merged) and falls back here
//     (FastJSONState+Containers.swift, `openSlotContainer`);
//   - `codingPath`: the real path exists only in the fallback, so reading
//     it hands the value to Foundation;
//   - `userInfo`: JSONEncoder's is empty unless set, and the SDK never sets it.

import Foundation

final class FastJSONEncoder: Encoder {
    /// The one instance of the process, never freed.
    nonisolated(unsafe) static let shared = FastJSONEncoder()

    /// True while an encoding is in progress or its bytes are being read.
    @exclusivity(unchecked) var busy = false

    let state: UnsafeMutablePointer<FastJSONState>

    // Keyed-container boxes kept for reuse, and the switch: used only by
    // BoxReuse.swift (stored properties cannot live in an extension).
    /// True when keyed containers come from the kept boxes; set through
    /// `setBoxReuse`.
    @exclusivity(unchecked) var isReusingBoxes =
        FastJSONEncoder.boxReuseIsSwitchedOn && FastJSONEncoder.boxReuseIsUsable
    /// The key type, box and frame of each kept box.
    @exclusivity(unchecked) var boxKeyTypes: [ObjectIdentifier] = []
    @exclusivity(unchecked) var boxes: [AnyObject] = []
    @exclusivity(unchecked) var boxFrames: [FrameRef] = []

    // Types JSONEncoder treats specially, and primitives worth a shortcut
    // (FastJSONEncoder+Values.swift).
    let stringType = ObjectIdentifier(String.self)
    let intType = ObjectIdentifier(Int.self)
    let doubleType = ObjectIdentifier(Double.self)
    let boolType = ObjectIdentifier(Bool.self)
    let dateType = ObjectIdentifier(Date.self)
    let dataType = ObjectIdentifier(Data.self)
    let urlType = ObjectIdentifier(URL.self)
    let decimalType = ObjectIdentifier(Decimal.self)

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
}
