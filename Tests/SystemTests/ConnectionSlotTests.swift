import Foundation
import Glibc
import XCTest

/// A connection slot is held by traffic, and blank lines are none: a client
/// that sends only newlines is closed at the idle timeout like a silent one.
/// A full control socket says that it is the control socket that is full.
final class E2EConnectionSlotTests: BerthTestCase {
    func testBlankLinesDoNotKeepAConnectionOpenPastTheIdleTimeout() throws {
        _ = try startExampleHost(["--idle-timeout", "1"])
        let connection = try connect("cecho", timeout: 20)
        let deadline = Date().addingTimeInterval(20)
        var closed = false
        while !closed && Date() < deadline {
            // A blank line about five times a second, well within the idle
            // timeout; the wait for the close paces it.
            if (try? connection.write("\n")) == nil { closed = true; break }
            var descriptor = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 200) > 0 { closed = try connection.isClosedByServer() }
        }
        XCTAssertTrue(closed, "a connection sending only blank lines was still open after 20 s, with an idle timeout of 1 s")
    }

    func testAFullControlSocketSaysItIsTheControlSocket() throws {
        try raiseOwnOpenFileLimit(to: 1200)
        let host = try startExampleHost()
        let held = try (0..<256).map { _ in try connect("berth", timeout: 20) }
        let refused = try connect("berth", timeout: 20).readResponse()
        XCTAssertEqual(refused.status, 503, refused.line)
        XCTAssertEqual(refused.errorCode, "too_many_connections", refused.line)
        XCTAssertTrue(refused.errorMessage?.contains("the control socket already serves 256 connections") == true, refused.line)
        XCTAssertFalse(refused.errorMessage?.contains("worker") == true, refused.line)
        let line = try host.waitForLog(containing: "too_many_connections", timeout: 20)
        XCTAssertTrue(line.contains("control socket"), line)
        withExtendedLifetime(held) {}
    }
}
