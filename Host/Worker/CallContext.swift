/// What a call made for a request inherits from it (docs/calls.md): its
/// deadline, its hop count and its trace. Kept with the request's deferred
/// answer, since calls are made once the handler has deferred.
struct CallContext {
    /// Monotonic nanoseconds at which the request's time is up: its route's
    /// limit or the deadline its own caller sent ("deadline_ms"), whichever
    /// ends first; 0: none.
    var deadline: UInt64 = 0
    /// Calls already made on the way to this request (the envelope's "hops").
    var hops: Int = 0
    /// This request's traceparent, which its calls continue; empty: no trace.
    var traceparent: [UInt8] = []
}
