/// Checks that bytes a plugin answered with are one JSON value before they
/// are spliced into a response line: a bad body would otherwise break the
/// line (a raw newline ends it early, a stray quote corrupts it). It runs
/// on every answer, so it is the scanner's skip-only walk: no allocation
/// unless the body is bad.
public enum JSONValidator {
    /// nil when `bytes` hold exactly one JSON value (whitespace around it
    /// allowed); otherwise the byte offset and what is wrong there.
    public static func problem(in bytes: UnsafeRawBufferPointer) -> (offset: Int, reason: String)? {
        let buffer = UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        var scanner = JSONScanner(buffer)
        do {
            _ = try scanner.scanValue()
            scanner.skipWhitespace()
            if !scanner.atEnd { return (scanner.index, "unexpected bytes after the value") }
            return nil
        } catch let failure as JSONScanner.Failure {
            return (failure.offset, failure.message)
        } catch {
            return (scanner.index, "\(error)")
        }
    }
}
