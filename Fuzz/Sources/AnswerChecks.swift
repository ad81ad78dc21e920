/// Every answer the server writes must be one line of valid JSON that
/// echoes the request's id and carries the status, whatever bytes the
/// request held (error messages quote parts of it).
enum AnswerChecks {
    static func run(_ answer: [UInt8], id: UnsafeBufferPointer<UInt8>?, status: Int) {
        check(answer.last == 0x0A && answer.filter({ $0 == 0x0A }).count == 1,
              "answer \(show(answer)) is not exactly one line")
        answer.dropLast().withUnsafeBufferPointer { line in
            let reference = ReferenceJSON.read(line)
            check(reference.valid && reference.isObject, "answer \(show(answer)) is not a JSON object")
            let members = reference.members.map { (String(decoding: line[$0.key], as: UTF8.self), Array(line[$0.value])) }
            let expectedID = id.flatMap { $0.isEmpty ? nil : Array($0) } ?? Array("null".utf8)
            check(members.count >= 3 && members[0].0 == "id" && members[0].1 == expectedID,
                  "answer \(show(answer)) does not echo the id \(show(expectedID))")
            check(members[1].0 == "status" && members[1].1 == Array(String(status).utf8),
                  "answer \(show(answer)) does not carry status \(status)")
        }
    }
}
