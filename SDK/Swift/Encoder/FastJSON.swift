// A streaming JSON encoder for handler results. Foundation's JSONEncoder
// builds a tree of enum values and dictionaries, sorts it and serialises it;
// for a small struct that is most of a request's CPU. This writer appends the
// JSON text straight into one reusable byte buffer instead.
//
// Output: byte for byte what `JSONEncoder` with
// `[.sortedKeys, .withoutEscapingSlashes]` (the SDK's configuration since the
// start) produces, errors included; whatever it cannot reproduce exactly is
// encoded again by JSONEncoder (FastJSON+Fallback.swift).
//
// The files of this folder, by concern:
//   FastJSON.swift                  entry points (this file)
//   FastJSON+Fallback.swift         Foundation's JSONEncoder, and when it takes over
//   FastJSONEncoder.swift           the `Encoder` handed to `encode(to:)`
//   FastJSONEncoder+Values.swift    one value: primitives, Date/Data/URL/Decimal
//   FastJSONState.swift             the state the containers share, its buffer
//   FastJSONState+Containers.swift  values, containers and their nesting
//   FastJSONState+KeyOrder.swift    sorted keys
//   NumberWriting.swift             numbers, booleans, null
//   StringWriting.swift             quoting and escaping
//   KeyedContainer.swift, UnkeyedContainer.swift, SingleValueContainer.swift
//   BoxReuse.swift                  reusing the stdlib's keyed-container boxes,
//                                   and the switch that turns it off
//   Stack.swift                     the state's growable stacks
//
// Each file starts with the JSONEncoder behaviours it mirrors, and where.
//
// Mirrors from JSONEncoder (swift-foundation, JSONEncoder.swift):
//   - `encode(_:)` returns the whole document or throws; it never returns
//     part of one. Here too: a streaming attempt that cannot finish is
//     thrown away and the value encoded again by JSONEncoder.
//   - a top-level fragment ("text", 42, null) is a valid document.
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
}
