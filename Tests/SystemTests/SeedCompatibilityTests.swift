import Foundation
import XCTest

/// Clients from the seed system talk to Berth unchanged.
final class E2ESeedCompatibilityTests: BerthTestCase {
    func testSocatPipeAsTheSeedDocumentsIt() throws {
        let socat = "/usr/bin/socat"
        guard FileManager.default.isExecutableFile(atPath: socat) else {
            throw XCTSkip("socat is not installed (.ci/run installs it)")
        }
        try startExampleHost()
        for request in [#"{"method":"GET","path":"/hello/bob"}"#, #"{"method":"GET","path":"/hello/bob"}"# + "\n"] {
            let result = try Command.run(socat, ["-", "UNIX-CONNECT:" + sandbox.socket("greeter")], stdin: request, timeout: 10)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, #"{"id":null,"status":200,"data":{"greeting":"Hello, bob!"}}"# + "\n")
        }
    }
}
