// The fallback: Foundation's JSONEncoder, configured as the SDK always has
// been, encodes again whatever the streaming writer cannot reproduce
// exactly, so the result is always what JSONEncoder gives, errors included.
//
// Handed to the fallback (the streaming writer marks its state failed, or
// throws `FastJSONFallback`), with where the decision is taken:
//   - superEncoder() and superEncoder(forKey:): JSONEncoder nests the
//     parent's value under "super" or the key (KeyedContainer.swift,
//     UnkeyedContainer.swift);
//   - reading codingPath, which only error paths do: JSONEncoder has the
//     real path (FastJSONEncoder.swift and the containers);
//   - writing to an outer container while a nested value is being encoded,
//     or to a nested container after its parent moved on: JSONEncoder keeps
//     a tree and can still insert (FastJSONState+Containers.swift, `enter`);
//   - a value that asks for two containers (JSONEncoder merges them, which
//     is how `super.encode(to: encoder)` works), encodes twice through a
//     single-value container, or encodes nothing (JSONEncoder writes {}
//     when nested, throws at the top level) (FastJSONState+Containers.swift);
//   - nesting deeper than JSONEncoder's writer allows (same file);
//   - duplicate keys (JSONEncoder keeps the last), keys needing escapes in
//     an object with more than one key (FastJSONState+KeyOrder.swift);
//   - any error thrown while encoding: a non-finite Double or Float
//     (NumberWriting.swift), a throwing `encode(to:)`
//     (FastJSONEncoder+Values.swift). Foundation then throws its own
//     EncodingError, so the `encode_failed` message names the same path
//     and reason as before the streaming writer existed.

import Foundation

extension FastJSON {
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
