import BerthWire

/// The envelope parser's promises, checked on one frame against
/// ReferenceJSON: invalid JSON is 400 invalid_json, a valid non-request is
/// 400 bad_request (with the id when there is one), and a usable request
/// has exactly the member ranges the reference finds, and the same decoded
/// values: keys, method, path and token mean what JSON says, escapes
/// included.
enum EnvelopeChecks {
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map { Array($0.utf8) }

    /// Returns the envelope when the frame is a usable request; otherwise
    /// checks the error answer the server would send.
    static func run(_ frame: UnsafeBufferPointer<UInt8>) -> RequestEnvelope? {
        var envelope = RequestEnvelope()
        let invalid = RequestEnvelope.parse(frame, into: &envelope)
        let reference = ReferenceJSON.read(frame)
        let expected = expectation(frame, reference)
        if let invalid {
            check(invalid.code == expected.code, "\(show(frame)): got \(invalid.code) (\(invalid.message)), expected \(expected.code)")
            check(invalid.id == expected.id, "\(show(frame)): error id \(String(describing: invalid.id)), expected \(String(describing: expected.id))")
            var answer: [UInt8] = []
            let id = invalid.id.map { UnsafeBufferPointer(rebasing: frame[$0]) }
            ResponseWriter.appendError(&answer, id: id, status: 400, code: invalid.code, message: invalid.message)
            AnswerChecks.run(answer, id: id, status: 400)
            return nil
        }
        check(expected.code == "ok", "\(show(frame)) was accepted, expected \(expected.code)")
        let members = expected.members
        check(envelope.id == members.id?.value, "id range \(String(describing: envelope.id)) in \(show(frame))")
        check(envelope.data == members.data?.value, "data range \(String(describing: envelope.data)) in \(show(frame))")
        check(envelope.headers == members.headers?.value, "headers range in \(show(frame))")
        check(envelope.method?.range == content(members.method!.value), "method range in \(show(frame))")
        check(envelope.path?.range == content(members.path!.value), "path range in \(show(frame))")
        let token = members.token.flatMap { frame[$0.value.lowerBound] == UInt8(ascii: "\"") ? content($0.value) : nil }
        check(envelope.authToken?.range == token, "auth_token range in \(show(frame))")
        let method = asciiUppercased(ReferenceJSON.unescape(UnsafeBufferPointer(rebasing: frame[content(members.method!.value)])))
        check(Array(envelope.httpMethod(in: frame).description.utf8) == method,
              "method \(envelope.httpMethod(in: frame)) in \(show(frame)), expected \(show(method))")
        for member in [envelope.method, envelope.path, envelope.authToken].compactMap({ $0 }) {
            check(member.hasEscapes == frame[member.range].contains(UInt8(ascii: "\\")), "hasEscapes wrong in \(show(frame))")
            let decoded = RequestEnvelope.decoded(member, in: frame)
            let expected = ReferenceJSON.unescape(UnsafeBufferPointer(rebasing: frame[member.range]))
            check(decoded == expected, "\(show(frame[member.range])) decoded to \(show(decoded)), expected \(show(expected))")
        }
        checkSpansLines(envelope, frame)
        return envelope
    }

    /// A request whose raw JSON members hold a line break says so: the
    /// worker then flattens an echoed body to keep its answer one line.
    static func checkSpansLines(_ envelope: RequestEnvelope, _ frame: UnsafeBufferPointer<UInt8>) {
        for member in [envelope.data, envelope.id, envelope.headers].compactMap({ $0 })
        where frame[member].contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            check(envelope.spansLines, "\(show(frame[member])) holds a line break, but spansLines is false")
        }
    }

    /// The last top-level member of each name the host reads (JSON leaves
    /// duplicates open; the host keeps the last). Keys compare decoded:
    /// "p\u0061th" is "path".
    struct Members {
        var id, method, path, token, data, headers: ReferenceJSON.Member?
    }

    private static func expectation(_ frame: UnsafeBufferPointer<UInt8>, _ reference: (valid: Bool, isObject: Bool, members: [ReferenceJSON.Member]))
        -> (code: String, id: Range<Int>?, members: Members) {
        var members = Members()
        guard reference.valid else { return ("invalid_json", nil, members) }
        guard reference.isObject else { return ("bad_request", nil, members) }
        for member in reference.members {
            // Bytes, not Strings: String equality is Unicode equivalence.
            switch ReferenceJSON.unescape(UnsafeBufferPointer(rebasing: frame[member.key])) {
            case Array("id".utf8): members.id = member
            case Array("method".utf8): members.method = member
            case Array("path".utf8): members.path = member
            case Array("auth_token".utf8): members.token = member
            case Array("data".utf8): members.data = member
            case Array("headers".utf8): members.headers = member
            default: break
            }
        }
        func isString(_ member: ReferenceJSON.Member?) -> Bool {
            member.map { frame[$0.value.lowerBound] == UInt8(ascii: "\"") } ?? false
        }
        func decoded(_ member: ReferenceJSON.Member) -> [UInt8] {
            ReferenceJSON.unescape(UnsafeBufferPointer(rebasing: frame[content(member.value)]))
        }
        let usable = isString(members.method)
            && methods.contains(asciiUppercased(decoded(members.method!)))
            && isString(members.path)
            && decoded(members.path!).first == UInt8(ascii: "/")
            && members.headers.map { frame[$0.value.lowerBound] == UInt8(ascii: "{") } ?? true
        return (usable ? "ok" : "bad_request", members.id?.value, members)
    }

    /// A string value's content, between its quotes.
    private static func content(_ value: Range<Int>) -> Range<Int> {
        (value.lowerBound + 1)..<(value.upperBound - 1)
    }

    private static func asciiUppercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
    }
}
