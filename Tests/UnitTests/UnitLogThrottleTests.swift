import BerthSupport
import Glibc
import XCTest

/// The throttle on lines a client can cause: bytes count as well as lines.
final class UnitLogThrottleTests: XCTestCase {
    /// What `body` writes to stderr, captured in a temporary file.
    private func stderrLines(_ body: () -> Void) throws -> [String] {
        var template = Array("/tmp/berth-throttle-XXXXXX".utf8CString)
        let file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard file >= 0 else { throw XCTSkip("mkstemp failed") }
        let path = String(cString: template)
        defer { close(file); unlink(path) }
        let saved = dup(2)
        dup2(file, 2)
        body()
        dup2(saved, 2)
        close(saved)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    func testLongLinesAreBoundedByBytesNotOnlyByLines() throws {
        let throttle = LogThrottle(what: "test", perSecond: 10, bytesPerSecond: 8192)
        let long = String(repeating: "x", count: 4000)
        let lines = try stderrLines {
            for _ in 0..<50 { throttle.write(.warn, long, plugin: "unit") }
        }
        // Two 4,000-byte lines fit in a second's 8 KiB (four if the test
        // straddles two seconds); the line limit alone would allow ten.
        let written = lines.filter { $0.hasSuffix(long) }.count
        XCTAssertGreaterThanOrEqual(written, 1)
        XCTAssertLessThanOrEqual(written, 4, "\(written) lines of 4,000 bytes got through")
    }
}
