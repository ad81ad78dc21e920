import BerthWire

/// The framer's promises, checked on a whole byte stream.
enum FramingChecks {
    /// The requests a server answers for `stream` (non-blank frames, leading
    /// blanks dropped as the envelope parser skips them), as ranges of
    /// `stream`, when its bytes arrive in pieces of the sizes in `chunks`
    /// (cycled) and the client then shuts down its side. Fed the way
    /// LineServer feeds it: the unconsumed bytes, growing, after each read;
    /// with `fastPath`, LineServer's one-walk parse is tried first whenever
    /// the framer has nothing pending, and must agree with the framer.
    static func requests(_ stream: UnsafeBufferPointer<UInt8>, chunks: [Int], fastPath: Bool) -> [Range<Int>] {
        var framer = RequestFramer()
        var requests: [Range<Int>] = []
        var start = 0
        var available = 0
        var chunk = 0
        func take(_ frame: RequestFramer.Frame) {
            let unconsumed = available - start
            check(frame.consumed > 0, "a frame consumed nothing at \(start); the server would loop")
            check(frame.length <= frame.consumed && frame.consumed <= unconsumed,
                  "frame length \(frame.length) consumed \(frame.consumed) with \(unconsumed) bytes given")
            let terminator = stream[(start + frame.length)..<(start + frame.consumed)]
            check(terminator.allSatisfy { $0 == 0x0D || $0 == 0x0A } && terminator.filter { $0 == 0x0A }.count <= 1,
                  "a frame dropped \(show(terminator)) after it")
            let body = stream[start..<(start + frame.length)]
            check(!body.contains(0x0A), "a frame spans a newline: \(show(body))")
            if let first = body.firstIndex(where: { !isBlank([$0]) }) {
                requests.append(first..<(start + frame.length))
            }
            start += frame.consumed
        }
        while true {
            while true {
                let pending = UnsafeBufferPointer(rebasing: stream[start..<available])
                if fastPath && framer.scanned == 0, let frame = onePass(pending) {
                    take(frame)
                } else if let frame = framer.next(pending) {
                    take(frame)
                } else {
                    break
                }
            }
            check(framer.scanned <= available - start, "the framer scanned past the bytes it was given")
            if available == stream.count { break }
            available = min(stream.count, available + max(1, chunks[chunk % chunks.count]))
            chunk += 1
        }
        if let frame = framer.finishAtEndOfStream(UnsafeBufferPointer(rebasing: stream[start...])) {
            check(frame.consumed == stream.count - start, "the last frame left bytes behind at end of stream")
            take(frame)
        }
        check(isBlank(stream[start...]), "bytes left unanswered at end of stream: \(show(stream[start...]))")
        return requests
    }

    /// Checks that however the stream is split, the same requests come out,
    /// and that each line holding one valid JSON object is one request.
    /// Returns the requests.
    static func run(_ stream: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        let whole = requests(stream, chunks: [stream.count], fastPath: false)
        check(requests(stream, chunks: [stream.count], fastPath: true) == whole,
              "the one-walk parse framed \(show(stream)) differently from the framer")
        check(requests(stream, chunks: [1], fastPath: true) == whole, "byte-by-byte arrival framed \(show(stream)) differently")
        // Piece sizes from the input itself, so the fuzzer steers them too.
        let sizes = stream.prefix(16).map { Int($0 % 23) + 1 }
        if !sizes.isEmpty {
            check(requests(stream, chunks: sizes, fastPath: true) == whole,
                  "arrival in pieces \(sizes) framed \(show(stream)) differently")
        }
        var lineStart = 0
        while lineStart <= stream.count {
            let lineEnd = stream[lineStart...].firstIndex(of: 0x0A) ?? stream.count
            let line = UnsafeBufferPointer(rebasing: stream[lineStart..<lineEnd])
            let reference = ReferenceJSON.read(line)
            if reference.valid && reference.isObject {
                var trimmed = lineStart..<lineEnd
                while isBlank([stream[trimmed.lowerBound]]) { trimmed = (trimmed.lowerBound + 1)..<trimmed.upperBound }
                while isBlank([stream[trimmed.upperBound - 1]]) { trimmed = trimmed.lowerBound..<(trimmed.upperBound - 1) }
                let inLine = whole.filter { $0.overlaps(lineStart..<lineEnd) }
                check(inLine == [trimmed], "the one-object line \(show(stream[trimmed])) was framed as \(inLine)")
            }
            lineStart = lineEnd + 1
        }
        return whole
    }

    /// RequestEnvelope.parseLeadingObject, checked against what it promises:
    /// the frame RequestFramer would cut, and the envelope (or error) that
    /// parse(_:into:) finds in that frame.
    private static func onePass(_ pending: UnsafeBufferPointer<UInt8>) -> RequestFramer.Frame? {
        var envelope = RequestEnvelope()
        guard let parsed = RequestEnvelope.parseLeadingObject(pending, into: &envelope) else { return nil }
        var framer = RequestFramer()
        let expected = framer.next(pending)
        check(parsed.frame == expected, "one walk cut \(parsed.frame) from \(show(pending)), the framer \(String(describing: expected))")
        var separate = RequestEnvelope()
        let invalid = RequestEnvelope.parse(UnsafeBufferPointer(rebasing: pending[0..<parsed.frame.length]), into: &separate)
        check(parsed.invalid?.code == invalid?.code && parsed.invalid?.message == invalid?.message && parsed.invalid?.id == invalid?.id,
              "one walk over \(show(pending)) said \(String(describing: parsed.invalid)), parse said \(String(describing: invalid))")
        if invalid == nil {
            // spansLines may differ: parse also counts a '\r' before the
            // object, which costs only a needless walk over echoed data.
            // What it promises is checked in EnvelopeChecks.
            var (oneWalk, general) = (envelope, separate)
            oneWalk.spansLines = false
            general.spansLines = false
            check(oneWalk == general, "one walk over \(show(pending)) read other members than parse")
            EnvelopeChecks.checkSpansLines(envelope, pending)
        }
        return parsed.frame
    }
}
