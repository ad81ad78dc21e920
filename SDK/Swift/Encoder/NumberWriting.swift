// Numbers, booleans and null, as JSONEncoder writes them.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift: the
// containers' `encode` overloads, `__JSONEncoder.wrap`, and
// `JSONEncoderValue.number(from:)` and `number(from:with:encoder:)`):
//   - integers of every width as plain decimal digits; Int128 and UInt128
//     through their `description` (the containers call `writeRaw`);
//   - Double and Float as their `description` without a trailing ".0"
//     (1.0 is `1`, -0.0 is `-0`, 1e21 is `1e+21`): `writeDouble`,
//     `writeFloat`; other BinaryFloatingPoint types (Float16) encode
//     themselves as a Float;
//   - a non-finite Double or Float throws EncodingError.invalidValue
//     ("Unable to encode Double.nan directly in JSON.") under the default
//     `.throw` strategy: here it abandons the stream, and the fallback
//     throws JSONEncoder's own error, path included (FastJSON+Fallback.swift);
//   - `true`, `false`, `null`.

import Foundation

extension FastJSONState {
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
}
