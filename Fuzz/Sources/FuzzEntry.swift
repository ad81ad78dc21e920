import BerthWire

/// libFuzzer's entry: the input is what one client sends on a connection,
/// or, when its first byte is one of ChannelChecks' selectors, what a
/// worker sends the host on its channel. A client's bytes go through the
/// request path a worker runs (frame, parse the envelope, decode, route),
/// and every step's promises are checked against independent references; a
/// broken one aborts, which libFuzzer reports as a crash with the input
/// saved.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let stream = UnsafeBufferPointer(start: data, count: size)
    if ChannelChecks.run(stream) { return 0 }
    ValidatorChecks.run(stream)
    for request in FramingChecks.run(stream) {
        let frame = UnsafeBufferPointer(rebasing: stream[request])
        guard let envelope = EnvelopeChecks.run(frame) else { continue }
        // As LineServer hands it on: decoded, the query split off at '?'.
        let path = RequestEnvelope.decoded(envelope.path!, in: frame)
        path.withUnsafeBufferPointer { path in
            let end = path.firstIndex(of: UInt8(ascii: "?")) ?? path.count
            RoutingChecks.run(envelope.httpMethod(in: frame), UnsafeBufferPointer(rebasing: path[..<end]))
        }
    }
    return 0
}
