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
    public static func check(_ bytes: UnsafeRawBufferPointer) -> Verdict {
        let buffer = UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
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
}
