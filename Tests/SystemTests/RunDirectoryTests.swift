import Foundation
import Glibc
import XCTest

/// What the host leaves in its run directory, and with which permissions:
/// the token is the only thing guarding non-public routes.
final class E2ERunDirectoryTests: BerthTestCase {
    private func mode(_ path: String) throws -> (type: mode_t, permissions: mode_t) {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw HarnessError("stat(\(path)): errno \(errno)") }
        return (info.st_mode & S_IFMT, info.st_mode & 0o7777)
    }

    func testTokenFileSocketsAndRunDirectoryPermissions() throws {
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run), "the host must create the run directory")
        let host = try startExampleHost()

        let run = try mode(sandbox.run)
        XCTAssertEqual(run.type, S_IFDIR)
        XCTAssertEqual(run.permissions, 0o700, "run dir mode is \(String(run.permissions, radix: 8))")

        let tokenPath = sandbox.run + "/.auth_token"
        let tokenMode = try mode(tokenPath)
        XCTAssertEqual(tokenMode.type, S_IFREG)
        XCTAssertEqual(tokenMode.permissions, 0o600, "token mode is \(String(tokenMode.permissions, radix: 8))")
        let token = try sandbox.token()
        XCTAssertEqual(token.count, 64, token)
        XCTAssertTrue(token.allSatisfy { "0123456789abcdef".contains($0) }, "token is not lowercase hex: \(token)")

        for service in ["berth", "greeter", "cecho"] {
            let socket = try mode(sandbox.socket(service))
            XCTAssertEqual(socket.type, S_IFSOCK, service)
            XCTAssertEqual(socket.permissions, 0o660, "\(service).sock mode is \(String(socket.permissions, radix: 8))")
        }

        let pidText = try String(contentsOfFile: sandbox.run + "/berth.pid", encoding: .utf8)
        XCTAssertEqual(pidText, "\(host.pid)\n")

        // Nothing else: no leftovers like temporary token files.
        let entries = try FileManager.default.contentsOfDirectory(atPath: sandbox.run).sorted()
        XCTAssertEqual(entries, [".auth_token", "berth.pid", "berth.sock", "cecho.sock", "greeter.sock"])
    }

    func testTokenIsKeptAcrossRestartsWithTheSameRunDirectory() throws {
        let first = try startExampleHost()
        let token = try sandbox.token()
        first.signal(SIGTERM)
        XCTAssertEqual(try first.waitForExit(), 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sandbox.run + "/.auth_token"), "shutdown removed the token")

        try startHost()
        XCTAssertEqual(try sandbox.token(), token, "a restart made a new token")
        // And the restarted host accepts that token.
        XCTAssertEqual(try call("cecho", "POST", "/echo", token: token, data: "1").line,
                       #"{"id":null,"status":200,"data":1}"#)
        XCTAssertEqual(try call("berth", "GET", "/status", token: token).status, 200)
    }

    func testEachNewRunDirectoryGetsItsOwnToken() throws {
        let first = try startExampleHost()
        let token = try sandbox.token()
        first.signal(SIGTERM)
        XCTAssertEqual(try first.waitForExit(), 0)
        try FileManager.default.removeItem(atPath: sandbox.run)

        try startHost()
        let second = try sandbox.token()
        XCTAssertEqual(second.count, 64)
        XCTAssertNotEqual(second, token, "two fresh run directories got the same token")
        let refused = try call("cecho", "POST", "/echo", token: token, data: "1")
        XCTAssertEqual(refused.status, 401, refused.line)
    }

    func testUnusableTokenFileStopsTheHostWithAMessage() throws {
        try sandbox.installExamples()
        try FileManager.default.createDirectory(atPath: sandbox.run, withIntermediateDirectories: false)
        try "short".write(toFile: sandbox.run + "/.auth_token", atomically: false, encoding: .utf8)
        let host = try startHost(waitUntilReady: false)
        XCTAssertEqual(try host.waitForExit(), 1)
        try host.waitForLog(containing: "does not hold a token")
        // It never served.
        let sockets = try FileManager.default.contentsOfDirectory(atPath: sandbox.run).filter { $0.hasSuffix(".sock") }
        XCTAssertEqual(sockets, [])
    }
}
