import Foundation
import XCTest

/// A handler whose body is not JSON gets its client a 502 naming the plugin
/// and the route, never a broken response line; the worker keeps serving.
final class E2EBadBodyTests: BerthTestCase {
    func testBodiesThatAreNotJSONBecome502AndTheConnectionKeepsWorking() throws {
        try PluginBuilder.build(TestPlugins.badBody, fileName: "libbadbody.so", into: sandbox.plugins)
        let host = try startHost()
        let pid = try workerPID("badbody")
        let connection = try connect("badbody")
        // Pipelined, so a broken line would shift every answer after it.
        let paths = ["/truncated", "/ok", "/text", "/two", "/tab", "/pretty", "/ok"]
        try connection.write(paths.enumerated().map { WireRequest.line("GET", $1, id: String($0)) + "\n" }.joined())
        var answers: [WireResponse] = []
        for _ in paths { answers.append(try connection.readResponse()) }

        for (index, path) in paths.enumerated() {
            XCTAssertEqual(answers[index].rawID, String(index), answers[index].line)
            switch path {
            case "/ok":
                XCTAssertEqual(answers[index].line, #"{"id":\#(index),"status":200,"data":{"ok":true}}"#)
            case "/pretty":
                // JSON spread over lines arrives as one line, meaning unchanged.
                XCTAssertEqual(answers[index].line, #"{"id":\#(index),"status":200,"data":{   "a": [1,   2] } }"#)
            default:
                XCTAssertEqual(answers[index].status, 502, answers[index].line)
                XCTAssertEqual(answers[index].errorCode, "invalid_response", answers[index].line)
                let message = answers[index].errorMessage ?? ""
                XCTAssertTrue(message.contains("plugin badbody answered GET \(path) with a body that is not valid JSON"), message)
            }
        }
        XCTAssertTrue(answers[0].errorMessage?.contains("byte 5: unexpected end of input") == true, answers[0].line)
        XCTAssertTrue(answers[3].errorMessage?.contains("byte 3: unexpected bytes after the value") == true, answers[3].line)
        XCTAssertTrue(answers[4].errorMessage?.contains("control character in string") == true, answers[4].line)

        try host.waitForLog(containing: "[badbody] handler for GET /text answered with a body that is not valid JSON (byte 0 of 5")
        XCTAssertEqual(try connection.call("GET", "/ok", id: "9").line, #"{"id":9,"status":200,"data":{"ok":true}}"#)
        let entry = try plugin("badbody", in: try status())
        XCTAssertEqual(jsonInt(entry["errors"]), 4, "\(entry)")
        XCTAssertEqual(jsonInt(entry["restarts"]), 0, "\(entry)")
        XCTAssertEqual(try workerPID("badbody"), pid)
    }

    /// An echoed body is not checked again, but a raw '\r' between its
    /// tokens (which does not end a request) must still not reach the
    /// client's line: it is flattened like a pretty-printed body.
    func testEchoedDataWithARawCarriageReturnStaysOneLine() throws {
        try sandbox.installExamples()
        try startHost()
        let connection = try connect("cecho")
        let token = try sandbox.token()
        try connection.write("{\"method\":\"POST\",\"path\":\"/echo\",\"auth_token\":\"\(token)\",\"id\":1,\"data\":{\"a\":\r[1,\r2]}}\n")
        XCTAssertEqual(try connection.readLine(), #"{"id":1,"status":200,"data":{"a": [1, 2]}}"#)
        XCTAssertEqual(try connection.call("POST", "/echo", token: token, data: #"{"b":2}"#, id: "2").line,
                       #"{"id":2,"status":200,"data":{"b":2}}"#)
    }

    /// A handler that breaks the answering rules gets its client a specific
    /// error (or its first answer), the log says what to fix, and the
    /// worker keeps serving with every later answer on its own line.
    func testHandlersThatBreakTheAnsweringRulesGetSpecificAnswers() throws {
        try PluginBuilder.build(TestPlugins.misbehaving, fileName: "libmisbehaving.so", into: sandbox.plugins)
        let host = try startHost()
        let pid = try workerPID("misbehaving")
        let connection = try connect("misbehaving")
        let paths = ["/silent", "/status", "/twice", "/teapot", "/ok"]
        try connection.write(paths.enumerated().map { WireRequest.line("GET", $1, id: String($0)) + "\n" }.joined())
        var answers: [WireResponse] = []
        for _ in paths { answers.append(try connection.readResponse()) }
        for (index, answer) in answers.enumerated() { XCTAssertEqual(answer.rawID, String(index), answer.line) }

        XCTAssertEqual(answers[0].status, 500, answers[0].line)
        XCTAssertEqual(answers[0].errorCode, "no_response", answers[0].line)
        XCTAssertTrue(answers[0].errorMessage?.contains("handler for GET /silent returned without responding") == true, answers[0].line)
        XCTAssertEqual(answers[1].status, 500, answers[1].line)
        XCTAssertEqual(answers[1].errorCode, "bad_status", answers[1].line)
        XCTAssertTrue(answers[1].errorMessage?.contains("answered GET /status with status 999") == true, answers[1].line)
        XCTAssertEqual(answers[2].line, #"{"id":2,"status":200,"data":{"n":1}}"#)
        XCTAssertEqual(answers[3].status, 418, answers[3].line)
        XCTAssertEqual(answers[3].errorCode, "teapot", answers[3].line)
        XCTAssertEqual(answers[3].errorMessage, "short and stout; ask the kettle", answers[3].line)
        XCTAssertEqual(answers[4].line, #"{"id":4,"status":200,"data":{"ok":true}}"#)

        try host.waitForLog(containing: "handler for GET /silent returned without responding")
        try host.waitForLog(containing: "handler for GET /twice answered twice; the second answer was ignored")
        XCTAssertEqual(try workerPID("misbehaving"), pid)
        XCTAssertEqual(jsonInt(try plugin("misbehaving", in: try status())["restarts"]), 0)
    }
}
