// Turns Codable errors into one readable line. The default descriptions dump
// CodingKey structs, which tell an API caller nothing about which field of
// their JSON was wrong.

/// "missing key 'user.name'", "expected String at 'tags[2]'", ...
func describeCodingError(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
        return "missing key '\(pathText(context.codingPath + [key]))'"
    case DecodingError.typeMismatch(let type, let context):
        return "expected \(type) at \(location(context.codingPath))"
    case DecodingError.valueNotFound(let type, let context):
        return "expected \(type) at \(location(context.codingPath)), found null"
    case DecodingError.dataCorrupted(let context):
        return "at \(location(context.codingPath)): \(context.debugDescription)"
    case EncodingError.invalidValue(_, let context):
        return "at \(location(context.codingPath)): \(context.debugDescription)"
    default:
        return "\(error)"
    }
}

private func location(_ path: [CodingKey]) -> String {
    path.isEmpty ? "the top level" : "'\(pathText(path))'"
}

private func pathText(_ path: [CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text
}
