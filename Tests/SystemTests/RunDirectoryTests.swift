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
        XCTAssertEqual(chmod(sandbox.run + "/.auth_token", 0o600), 0)
        let host = try startHost(waitUntilReady: false)
        XCTAssertEqual(try host.waitForExit(), 1)
        try host.waitForLog(containing: "does not hold a token")
        // It never served.
        let sockets = try FileManager.default.contentsOfDirectory(atPath: sandbox.run).filter { $0.hasSuffix(".sock") }
        XCTAssertEqual(sockets, [])
    }

    // MARK: a run directory or token someone else could control

    /// The uid tests hand files to when they play "another user".
    private let stranger: uid_t = 65534

    private func makeRunDirectory(mode: mode_t) throws {
        XCTAssertEqual(mkdir(sandbox.run, 0o700), 0, "mkdir: errno \(errno)")
        XCTAssertEqual(chmod(sandbox.run, mode), 0, "chmod: errno \(errno)")
    }

    private func plantToken(owner: uid_t, mode: mode_t) throws -> String {
        let planted = String(repeating: "ab", count: 32)
        let path = sandbox.run + "/.auth_token"
        try planted.write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(path, mode), 0)
        XCTAssertEqual(chown(path, owner, owner), 0, "chown: errno \(errno)")
        return planted
    }

    /// Starts a host that must refuse to start; returns its log line.
    @discardableResult
    private func expectRefusal(_ arguments: [String] = [], containing texts: [String]) throws -> String {
        let host = try startHost(arguments, waitUntilReady: false)
        XCTAssertEqual(try host.waitForExit(), 1, "the host served with an unsafe run directory; log:\n\(host.logText)")
        let line = try host.waitForLog(containing: "cannot start: ")
        for text in texts { XCTAssertTrue(line.contains(text), "expected \"\(text)\" in: \(line)") }
        let sockets = (try? FileManager.default.contentsOfDirectory(atPath: sandbox.run))?.filter { $0.hasSuffix(".sock") } ?? []
        XCTAssertEqual(sockets, [], "it opened sockets before refusing")
        return line
    }

    func testRunDirectoryOwnedByAnotherUserIsRefusedWithItsTokenUnread() throws {
        try sandbox.installExamples()
        try makeRunDirectory(mode: 0o700)
        _ = try plantToken(owner: stranger, mode: 0o600)
        XCTAssertEqual(chown(sandbox.run, stranger, stranger), 0, "chown: errno \(errno)")

        try expectRefusal(containing: ["run directory \(sandbox.run) is owned by uid \(stranger), not by berth's uid \(geteuid())",
                                       "could plant an admin token", "remove it and let berth create it"])
        let after = try mode(sandbox.run)
        XCTAssertEqual(after.permissions, 0o700)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run + "/berth.pid"), "it wrote into the stranger's directory")
    }

    func testPlantedOrReadableTokenFileIsRefused() throws {
        try sandbox.installExamples()
        try makeRunDirectory(mode: 0o700)
        _ = try plantToken(owner: stranger, mode: 0o600)
        try expectRefusal(containing: ["\(sandbox.run)/.auth_token is owned by uid \(stranger), not by berth's uid \(geteuid()) or root",
                                       "may have planted it", "delete it and start berth again to make a new token"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run + "/berth.pid"), "a refused start left berth.pid behind")

        try FileManager.default.removeItem(atPath: sandbox.run + "/.auth_token")
        _ = try plantToken(owner: geteuid(), mode: 0o644)
        try expectRefusal(containing: ["permissions 0644 for \(sandbox.run)/.auth_token are too open",
                                       "delete it and start berth again", "chmod 600"])

        // A token file of berth's own, 0600, is used as before.
        XCTAssertEqual(chmod(sandbox.run + "/.auth_token", 0o600), 0)
        try startHost()
        XCTAssertEqual(try call("berth", "GET", "/status", token: String(repeating: "ab", count: 32)).status, 200)
    }

    func testWorldWritableRunDirectoryIsRefusedAndKeepsItsMode() throws {
        try sandbox.installExamples()
        try makeRunDirectory(mode: 0o1777)
        try expectRefusal(containing: ["run directory \(sandbox.run) is writable by every user (mode 01777)",
                                       "--run-dir \(sandbox.run)/berth"])
        XCTAssertEqual(try mode(sandbox.run).permissions, 0o1777, "the host changed the mode of an existing directory")

        // The way out the message gives works.
        try startHost(["--run-dir", sandbox.run + "/berth"])
        XCTAssertEqual(try mode(sandbox.run + "/berth").permissions, 0o700)
    }

    func testGroupWritableRunDirectoryNeedsTheExplicitFlag() throws {
        try sandbox.installExamples()
        try makeRunDirectory(mode: 0o770)
        try expectRefusal(containing: ["run directory \(sandbox.run) is writable by its group, gid \(getegid()) (mode 0770)",
                                       "chmod g-w", "--run-dir-group-writable"])
        XCTAssertEqual(try mode(sandbox.run).permissions, 0o770)

        try startHost(["--run-dir-group-writable"])
        XCTAssertEqual(try mode(sandbox.run).permissions, 0o770, "the host changed the mode of an existing directory")
        XCTAssertEqual(try call("cecho", "POST", "/echo", token: try sandbox.token(), data: "1").status, 200)
    }

    /// The group access docs describe (clients in a group may traverse the
    /// directory) survives a start.
    func testExistingRunDirectoryKeepsTheModeTheOperatorSet() throws {
        try sandbox.installExamples()
        try makeRunDirectory(mode: 0o750)
        try startHost()
        XCTAssertEqual(try mode(sandbox.run).permissions, 0o750, "the host reset the operator's mode")
    }

    func testSymbolicLinkAsRunDirectoryIsRefused() throws {
        try sandbox.installExamples()
        let real = sandbox.root + "/real-run"
        XCTAssertEqual(mkdir(real, 0o700), 0)
        XCTAssertEqual(symlink(real, sandbox.run), 0, "symlink: errno \(errno)")
        try expectRefusal(containing: ["run directory \(sandbox.run) is a symbolic link", "--run-dir \(real)"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: real), [], "it wrote through the link")
    }
}
