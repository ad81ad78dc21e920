import BerthChannel

/// The host <-> worker channel's decoding, fed what a worker it does not
/// trust could send: a message's bytes, or the datagrams carrying them.
/// Garbage must be a ChannelError, never a trap, and a count claiming more
/// than the bytes left must be refused before anything is allocated for it
/// (Fuzz/run caps any single allocation, so such a one aborts). What
/// decodes must be exactly what the encoder writes for it, so the host
/// reads what the worker meant and nothing else.
enum ChannelChecks {
    /// An input's first byte picks what the rest is fed to. Control bytes
    /// that start no request, so the request path keeps (almost) every
    /// input; seeds for these are Fuzz/corpus/channel-*.
    enum Selector: UInt8 {
        /// The rest is one message, as the host decodes it from a worker.
        case workerMessage = 0x01
        /// The rest is one message, as a worker decodes it from the host:
        /// the host is trusted, but the codec is shared and cheap to check.
        case hostMessage = 0x02
        /// The rest is datagrams, each a length byte and that many bytes
        /// (the last one cut short by the input's end), as the host's
        /// reassembler gets them; each message it completes is decoded as
        /// a worker message.
        case datagrams = 0x03
    }

    /// Runs the check the input's first byte selects; false when it selects
    /// none (the input is for the request path).
    static func run(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = input.first, let selector = Selector(rawValue: first) else { return false }
        let rest = Array(input.dropFirst())
        switch selector {
        case .workerMessage: workerMessage(rest)
        case .hostMessage: hostMessage(rest)
        case .datagrams: datagrams(rest)
        }
        return true
    }

    /// Decoding a worker message: an error or a message whose encoding is
    /// the input itself, and which decodes from that encoding to itself.
    static func workerMessage(_ bytes: [UInt8]) {
        guard let message = decode(bytes, as: WorkerMessage.self) else { return }
        let encoded = encode(message, from: bytes)
        check(encoded == bytes, "\(message.kind) from \(show(bytes)) encodes as \(show(encoded))")
        check(decode(encoded, as: WorkerMessage.self) == message, "\(message.kind) re-encoded from \(show(bytes)) decodes to another message")
    }

    /// As workerMessage, compared by encoding only: a serve message's
    /// limits are Doubles, and one decoded from arbitrary bits may be NaN,
    /// which no message equals, not even itself.
    static func hostMessage(_ bytes: [UInt8]) {
        guard let message = decode(bytes, as: HostMessage.self) else { return }
        let encoded = encode(message, from: bytes)
        check(encoded == bytes, "\(message.kind) from \(show(bytes)) encodes as \(show(encoded))")
        let again = decode(encoded, as: HostMessage.self)
        check(again.map { encode($0, from: encoded) } == encoded, "\(message.kind) re-encoded from \(show(bytes)) decodes to another message")
    }

    /// The reassembler against a plain model: the pieces after each header
    /// byte join until an "E" piece ends the message; a datagram without a
    /// valid header is an error that drops the partial message.
    static func datagrams(_ stream: [UInt8]) {
        var reassembler = ChannelReassembler()
        var expected: [UInt8] = []
        var start = 0
        while start < stream.count {
            let end = min(stream.count, start + 1 + Int(stream[start]))
            let datagram = Array(stream[(start + 1)..<end])
            start = end
            let header = datagram.first
            let valid = header == UInt8(ascii: "M") || header == UInt8(ascii: "E")
            let result: (message: [UInt8], passed: Bool)?
            do {
                result = try datagram.withUnsafeBytes { try reassembler.add($0) }.map { ($0.message, $0.fd != nil) }
            } catch let error as ChannelError {
                check(!valid, "the datagram \(show(datagram)) was refused: \(error)")
                check(!reassembler.isPartial, "a refused datagram left a partial message")
                expected = []
                continue
            } catch {
                check(false, "the reassembler threw \(error), not a ChannelError")
                return
            }
            check(valid, "the datagram \(show(datagram)) has no frame header but was taken")
            expected += datagram.dropFirst()
            if header == UInt8(ascii: "E") {
                check(result?.message == expected, "reassembled \(show(result?.message ?? [])), expected \(show(expected))")
                check(result?.passed == false, "a descriptor came out that none went in with")
                check(!reassembler.isPartial, "a partial message is left after a whole one")
                framing(expected)
                workerMessage(expected)
                expected = []
            } else {
                check(result == nil, "a message ended on a datagram that says more follow")
                check(reassembler.isPartial == !expected.isEmpty, "isPartial is \(reassembler.isPartial) with \(expected.count) bytes pending")
            }
        }
    }

    /// Cutting a message into datagrams and joining them gives it back,
    /// each datagram within the size limit and only the last one an "E".
    static func framing(_ message: [UInt8]) {
        let datagrams = ChannelFraming.datagrams(for: message)
        var reassembler = ChannelReassembler()
        for (index, datagram) in datagrams.enumerated() {
            check(datagram.count <= ChannelProtocol.datagramBytes, "a \(datagram.count)-byte datagram")
            check(datagram.first == UInt8(ascii: index == datagrams.count - 1 ? "E" : "M"), "datagram \(index) of \(datagrams.count) has a wrong header")
            let result = try? datagram.withUnsafeBytes { try reassembler.add($0) }
            if index == datagrams.count - 1 {
                check(result?.message == message, "the datagrams of \(show(message)) joined to another message")
            }
        }
    }

    /// The message, or nil after checking that what was thrown is the
    /// channel's error (the host logs it and ends the worker).
    private static func decode<Message: ChannelMessage>(_ bytes: [UInt8], as type: Message.Type) -> Message? {
        do {
            return try ChannelCodec.decode(bytes, as: type)
        } catch is ChannelError {
            return nil
        } catch {
            check(false, "decoding \(show(bytes)) threw \(error), not a ChannelError")
            return nil
        }
    }

    /// A decoded message's encoding; it came from `bytes`, far under the
    /// size limit, so the encoder has no reason to refuse it.
    private static func encode<Message: ChannelMessage>(_ message: Message, from bytes: [UInt8]) -> [UInt8] {
        do {
            return try ChannelCodec.encode(message)
        } catch {
            check(false, "\(message.kind) decoded from \(show(bytes)) does not encode: \(error)")
            return []
        }
    }
}
