// The unkeyed container: `[`, then `,value` per call, into the array of the
// frame it remembers. Three words, so the `UnkeyedEncodingContainer`
// existential holds it inline: no allocation per array.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift,
// `_JSONUnkeyedEncodingContainer`):
//   - every `encode(_:)` overload appends one element; `encodeNil()` null;
//   - `count`: the elements appended so far;
//   - Int128 and UInt128 as their decimal text;
//   - `nestedContainer(keyedBy:)` and `nestedUnkeyedContainer()` append a
//     new object or array (a later write to this container closes it);
//   - `superEncoder()` (an element the parent's value fills) and
//     `codingPath`: the fallback (FastJSON+Fallback.swift).

import Foundation

struct FastUnkeyedContainer: UnkeyedEncodingContainer {
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
