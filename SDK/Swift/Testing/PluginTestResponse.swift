import Foundation

/// What a plugin answered to one `PluginTestClient.call`, as a client of
/// the host would receive it.
public struct PluginTestResponse: Sendable, CustomStringConvertible {
    /// The answer's status: the handler's, or the one the host would have
    /// answered with itself (404, 405, 401, 400, 500 no_response, ...).
    public let status: Int
    /// The answer line as the host would send it, without its final "\n":
    /// `{"id":null,"status":200,"data":...}` or
    /// `{"id":null,"status":404,"error":{"code":...,"message":...}}`.
    public let line: String
    /// The raw JSON of "data" when the handler answered with `respond`
    /// (a returned value); nil for an error answer.
    public let dataJSON: String?
    /// "error.code" of an error answer; nil on success.
    public let errorCode: String?
    /// "error.message" of an error answer; nil on success.
    public let errorMessage: String?

    public var description: String { line }

    /// Decodes "data", e.g. `try response.decode(Greeting.self)`. Throws a
    /// PluginTestError that shows the answer when it was an error, or when
    /// "data" does not decode as `T`.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        guard let dataJSON else {
            throw PluginTestError("expected data of type \(T.self), but the answer was an error: \(line)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(dataJSON.utf8))
        } catch {
            throw PluginTestError("data does not decode as \(T.self): \(describeCodingError(error)); the answer was \(line)")
        }
    }

    static func success(status: Int, body: [UInt8]) -> PluginTestResponse {
        let data = body.isEmpty ? "null" : String(decoding: body, as: UTF8.self)
        return PluginTestResponse(status: status, line: #"{"id":null,"status":\#(status),"data":\#(data)}"#,
                                  dataJSON: data, errorCode: nil, errorMessage: nil)
    }

    static func error(status: Int, code: String, message: String) -> PluginTestResponse {
        PluginTestResponse(status: status,
                           line: #"{"id":null,"status":\#(status),"error":{"code":\#(quoted(code)),"message":\#(quoted(message))}}"#,
                           dataJSON: nil, errorCode: code, errorMessage: message)
    }

    /// A JSON string literal, escaped as the host's JSONText.quote does.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Why a PluginTestClient could not be made, or a response not decoded.
public struct PluginTestError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
