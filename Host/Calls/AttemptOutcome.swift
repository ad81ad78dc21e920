/// How one attempt of a call to another plugin ended, as the circuit
/// breaker, the retry rules and the counters see it (docs/calls.md).
/// Host/Calls holds the caller's side of calls between plugins: the
/// connections to a callee's instances, the choice of instance, deadlines,
/// retries and the breaker. The worker's `call` host function drives it.
public enum AttemptOutcome: Equatable, Sendable {
    /// The callee answered, with any status that is not a failure below
    /// (a 404 or a 400 is the caller's mistake, not the callee's).
    case answered
    /// The callee itself answered 500-599.
    case serverError
    /// No answer before the attempt's deadline.
    case timeout
    /// The connection failed or closed before the answer came.
    case reset
    /// The callee's worker died with the call in flight.
    case crashed
    /// Never held against the callee: refused here (overflow, circuit
    /// open), or cancelled because the parent's client went away.
    case notCounted

    /// What the breaker counts as a failure of the callee.
    public var isFailure: Bool {
        switch self {
        case .serverError, .timeout, .reset, .crashed: return true
        case .answered, .notCounted: return false
        }
    }
}
