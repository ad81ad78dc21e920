// One value at the current position: after a key, as an array element, or
// at the top level. The common primitives are written without a call to
// their `encode(to:)`; everything else encodes itself into this encoder.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift,
// `__JSONEncoder.wrapGeneric` and its default strategies):
//   - Date, .deferredToDate: its `timeIntervalSinceReferenceDate` as a
//     number (seconds since 2001-01-01), written like any Double;
//   - Data, .base64: a base64 string;
//   - URL: its `absoluteString` as a string (not the keyed form its own
//     `encode(to:)` would produce);
//   - Decimal: its `description` as a bare number;
//   - any other type: its own `encode(to:)`; an error it throws is
//     rethrown after marking the state failed, so the fallback encodes the
//     value again and throws Foundation's error (FastJSON+Fallback.swift).

import Foundation

extension FastJSONEncoder {
    /// Encodes one value at the current position.
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
}
