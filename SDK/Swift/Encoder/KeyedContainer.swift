// The keyed container: `{`, then `,"key":value` per call, into the object of
// the frame it remembers. Containers hold the state pointer (and reach the
// immortal encoder through it, unretained): calling them does no reference
// counting. Its boxes are reused (BoxReuse.swift), so the frame is held by a
// reference the encoder can point at a new frame.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift,
// `_JSONKeyedEncodingContainer`):
//   - every `encode(_:forKey:)` overload writes the key then the value;
//     `encodeNil(forKey:)` writes null (an Optional's synthesized
//     `encodeIfPresent` omits the key instead, as there);
//   - Int128 and UInt128 as their decimal text;
//   - `nestedContainer(keyedBy:forKey:)` and
//     `nestedUnkeyedContainer(forKey:)` put the new object or array under
//     the key (a later write to this container closes it);
//   - `superEncoder()` / `superEncoder(forKey:)` (the value under "super" or
//     the key) and `codingPath`: the fallback (FastJSON+Fallback.swift).

import Foundation

/// The frame a keyed container writes to; changed when its box is reused.
final class FrameRef {
    @exclusivity(unchecked) var index: Int
    @exclusivity(unchecked) var id: Int
    init(_ index: Int, _ id: Int) {
        self.index = index
        self.id = id
    }
}

struct FastKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
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
