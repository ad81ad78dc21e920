// The single-value container: the value in place of a container, once.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift,
// `__JSONEncoder`'s SingleValueEncodingContainer conformance):
//   - one `encode(_:)` or `encodeNil()` per value; a second one stops
//     JSONEncoder (a precondition), and goes to the fallback here
//     (FastJSONState+Containers.swift, `claimSingleValue`);
//   - a value encoded through it takes the container's place: a wrapper
//     around a struct encodes as the struct;
//   - Int128 and UInt128 as their decimal text; `codingPath`: the fallback.

import Foundation

struct FastSingleValueContainer: SingleValueEncodingContainer {
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
