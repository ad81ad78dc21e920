/// Checks that bytes a plugin answered with are one JSON value before they
/// are spliced into a response line: a bad body would otherwise break the
/// line (a raw newline ends it early, a stray quote corrupts it). It runs
/// on every answer, so it is the scanner's skip-only walk: no allocation
/// unless the body is bad.
public enum JSONValidator {
    public enum Verdict: Equatable {
        case valid(spansLines: Bool)
        case invalid(offset: Int, reason: String)
    }

    /// One walk: whether `bytes` are one JSON value, and whether it has a
    /// raw line break (between tokens, the only place valid JSON has one).
    /// JSONSkipper decides; the explaining scanner runs only on a refusal.
    public static func check(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        let buffer = UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        if let spansLines = fastWalk(buffer) { return .valid(spansLines: spansLines) }
        var scanner = JSONScanner(buffer)
        do {
            _ = try scanner.scanValue()
            scanner.skipWhitespace()
            if !scanner.atEnd { return .invalid(offset: scanner.index, reason: "unexpected bytes after the value") }
            return .valid(spansLines: scanner.sawLineBreak)
        } catch let failure as JSONScanner.Failure {
            return .invalid(offset: failure.offset, reason: failure.message)
        } catch {
            return .invalid(offset: scanner.index, reason: "\(error)")
        }
    }

    /// Whether JSONSkipper alone accepts `bytes` as one value with optional
    /// whitespace around it. `check` falls back to the explaining walk when
    /// it does not, so a disagreement would only slow answers down; the
    /// fuzz harness and the unit tests compare the two verdicts with this.
    public static func fastWalkAccepts(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        fastWalk(bytes) != nil
    }

    /// Whether the value spans lines, when JSONSkipper accepts it; nil when not.
    @inline(__always)
    private static func fastWalk(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard let base = bytes.baseAddress else { return nil }
        var lineBreak = false
        let start = JSONSkipper.skipSpace(base, bytes.count, 0, &lineBreak)
        guard let end = JSONSkipper.skipValue(base, count: bytes.count, from: start, depth: 0, lineBreak: &lineBreak),
              JSONSkipper.skipSpace(base, bytes.count, end, &lineBreak) == bytes.count else { return nil }
        return lineBreak
    }
}
