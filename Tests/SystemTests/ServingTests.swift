import Foundation
import Glibc
import XCTest

/// Every route of both example plugins, over each way a client may frame
/// requests on the socket.
final class E2EServingTests: BerthTestCase {
    private let body = #"{"a":[1,2.5,{"b":null}],"s":"x\"y","t":true}"#

    func testEveryRouteOnOnePersistentConnection() throws {
        try startExampleHost()
        let token = try sandbox.token()

        let greeter = try connect("greeter")
        for round in 0..<10 {
            XCTAssertEqual(try greeter.call("GET", "/hello/bob", id: "\(round)").line,
                           #"{"id":\#(round),"status":200,"data":{"greeting":"Hello, bob!"}}"#)
            XCTAssertEqual(try greeter.call("POST", "/echo", token: token, data: body, id: #""g\#(round)""#).line,
                           #"{"id":"g\#(round)","status":200,"data":\#(body)}"#)
        }
        // Parameters arrive percent-decoded; the query is not part of them.
        let decoded = try greeter.call("GET", "/hello/b%C3%A9b%20x?x=1&y=2")
        XCTAssertEqual(decoded.status, 200, decoded.line)
        XCTAssertEqual(decoded.dataObject?["greeting"] as? String, "Hello, béb x!")
        // An encoded slash stays inside its segment, then decodes.
        XCTAssertEqual(try greeter.call("GET", "/hello/a%2Fb").dataObject?["greeting"] as? String, "Hello, a/b!")
        // No "data" member: the plugin sees an empty body and null comes back.
        XCTAssertEqual(try greeter.call("POST", "/echo", token: token).line, #"{"id":null,"status":200,"data":null}"#)

        let cecho = try connect("cecho")
        for round in 0..<10 {
            XCTAssertEqual(try cecho.call("GET", "/ping", id: "\(round)").line,
                           #"{"id":\#(round),"status":200,"data":{"pong":true}}"#)
            XCTAssertEqual(try cecho.call("POST", "/echo", token: token, data: body, id: "[\(round)]").line,
                           #"{"id":[\#(round)],"status":200,"data":\#(body)}"#)
        }
        XCTAssertEqual(try cecho.call("POST", "/echo", token: token, data: #""just a string""#).line,
                       #"{"id":null,"status":200,"data":"just a string"}"#)
        XCTAssertEqual(try cecho.call("POST", "/echo", token: token).line, #"{"id":null,"status":200,"data":null}"#)

        // Ids longer than the 64 bytes the usual answer head has room for,
        // and a body past the answer buffer's first 4 KiB, come back whole.
        let longID = #"{"trace":""# + String(repeating: "t", count: 90) + #"","n":[1,2]}"#
        let bigBody = "[" + Array(repeating: #""0123456789abcdef""#, count: 400).joined(separator: ",") + "]"
        for service in [greeter, cecho] {
            XCTAssertEqual(try service.call("POST", "/echo", token: token, data: body, id: longID).line,
                           #"{"id":\#(longID),"status":200,"data":\#(body)}"#)
            XCTAssertEqual(try service.call("POST", "/echo", token: token, data: bigBody, id: "7").line,
                           #"{"id":7,"status":200,"data":\#(bigBody)}"#)
            XCTAssertEqual(try service.call("POST", "/echo", token: token, data: body, id: "8").line,
                           #"{"id":8,"status":200,"data":\#(body)}"#)
        }
    }

    func testPipelinedRequestsAreAnsweredInOrderWithTheirIDs() throws {
        try startExampleHost()
        let token = try sandbox.token()

        for service in ["greeter", "cecho"] {
            var requests: [String] = []
            var expected: [String] = []
            for i in 0..<30 {
                // Ids of several JSON types: the server must echo the raw text.
                let id = [String(i), #""req-\#(i)""#, #"{"n":\#(i),"k":[true]}"#][i % 3]
                let data = #"{"i":\#(i)}"#
                switch (service, i % 2) {
                case ("greeter", 0):
                    requests.append(WireRequest.line("GET", "/hello/n\(i)", id: id))
                    expected.append(#"{"id":\#(id),"status":200,"data":{"greeting":"Hello, n\#(i)!"}}"#)
                case ("cecho", 0):
                    requests.append(WireRequest.line("GET", "/ping", id: id))
                    expected.append(#"{"id":\#(id),"status":200,"data":{"pong":true}}"#)
                default:
                    requests.append(WireRequest.line("POST", "/echo", token: token, data: data, id: id))
                    expected.append(#"{"id":\#(id),"status":200,"data":\#(data)}"#)
                }
            }
            let connection = try connect(service)
            // All 30 in one write: the server must split them itself.
            try connection.write(requests.joined(separator: "\n") + "\n")
            let answers = try requests.indices.map { _ in try connection.readLine() }
            XCTAssertEqual(answers, expected, service)
            // And the connection is still usable afterwards.
            XCTAssertEqual(try connection.call("GET", service == "greeter" ? "/hello/end" : "/ping").status, 200)
        }
    }

    func testPipelinedRequestsWithoutNewlinesBetweenObjects() throws {
        try startExampleHost()
        let connection = try connect("cecho")
        // Objects back to back, no separator: each closing brace ends one.
        try connection.write((0..<20).map { WireRequest.line("GET", "/ping", id: String($0)) }.joined())
        for i in 0..<20 {
            XCTAssertEqual(try connection.readLine(), #"{"id":\#(i),"status":200,"data":{"pong":true}}"#)
        }
    }

    func testOneShotRequestWithoutNewlineIsAnsweredWhileTheClientKeepsTheConnectionOpen() throws {
        try startExampleHost()
        let token = try sandbox.token()
        // What the seed's PHP client does: write the object, then read
        // without closing or sending a newline.
        let cases: [(String, String, String)] = [
            ("greeter", WireRequest.line("GET", "/hello/php"), #"{"id":null,"status":200,"data":{"greeting":"Hello, php!"}}"#),
            ("greeter", WireRequest.line("POST", "/echo", token: token, data: body), #"{"id":null,"status":200,"data":\#(body)}"#),
            ("cecho", WireRequest.line("GET", "/ping"), #"{"id":null,"status":200,"data":{"pong":true}}"#),
            ("cecho", WireRequest.line("POST", "/echo", token: token, data: body), #"{"id":null,"status":200,"data":\#(body)}"#),
        ]
        for (service, request, expected) in cases {
            let connection = try connect(service)
            try connection.write(request)
            XCTAssertEqual(try connection.readLine(), expected, "\(service) \(request)")
        }
    }

    func testOneShotRequestFollowedByShutdownOfTheWriteSide() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let cases: [(String, String, String)] = [
            ("greeter", WireRequest.line("GET", "/hello/eof") + "\n", #"{"id":null,"status":200,"data":{"greeting":"Hello, eof!"}}"#),
            ("greeter", WireRequest.line("POST", "/echo", token: token, data: body), #"{"id":null,"status":200,"data":\#(body)}"#),
            ("cecho", WireRequest.line("GET", "/ping"), #"{"id":null,"status":200,"data":{"pong":true}}"#),
            ("cecho", WireRequest.line("POST", "/echo", token: token, data: body, id: "9") + "\n", #"{"id":9,"status":200,"data":\#(body)}"#),
        ]
        for (service, request, expected) in cases {
            let connection = try connect(service)
            try connection.write(request)
            connection.shutdownWrite()
            XCTAssertEqual(try connection.readLine(), expected, "\(service) \(request)")
            // The client said it is done: the server answers, then closes.
            XCTAssertTrue(try connection.isClosedByServer(), "\(service) kept the connection open after EOF")
        }
    }

    func testManyClientsAtOnce() throws {
        try startExampleHost()
        // Twenty connections open together, answered independently.
        let connections = try (0..<20).map { i in try connect(i % 2 == 0 ? "greeter" : "cecho") }
        for (i, connection) in connections.enumerated() {
            try connection.write(WireRequest.line("GET", i % 2 == 0 ? "/hello/c\(i)" : "/ping", id: String(i)) + "\n")
        }
        for (i, connection) in connections.enumerated().reversed() {
            let response = try connection.readResponse()
            XCTAssertEqual(response.status, 200, response.line)
            XCTAssertEqual(response.rawID, String(i))
        }
    }
}
