import BerthJSON
import BerthWire

/// JSON validation has a fast walk (JSONSkipper) and an explaining one
/// (JSONScanner) that runs only when the fast one refuses. Both must give
/// the verdict of the independent reference; a fast walk that refused
/// valid JSON would go unnoticed by every other check (the explaining walk
/// would accept it), so it is compared on its own here.
enum ValidatorChecks {
    static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        let expected = ReferenceJSON.isValid(bytes)
        let fast = JSONValidator.fastWalkAccepts(bytes)
        check(fast == expected, "fast walk says \(fast ? "valid" : "invalid") for \(show(bytes)), the reference \(expected ? "valid" : "invalid")")
        let verdict = JSONValidator.check(UnsafeRawBufferPointer(bytes))
        if case .valid = verdict {
            check(expected, "\(show(bytes)) was accepted as one JSON value")
        } else {
            check(!expected, "\(show(bytes)) was refused as one JSON value: \(verdict)")
        }
    }
}
