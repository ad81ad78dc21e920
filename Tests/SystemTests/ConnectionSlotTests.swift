import Foundation
import Glibc
import XCTest

/// A connection slot is held by traffic, and blank lines are none: a client
/// that sends only newlines is closed at the idle timeout like a silent one.
/// A full control socket says that it is the control socket that is full,
/// and clients of another user cannot take its last slots from the operator.
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
        XCTAssertTrue(refused.errorMessage?.contains("the control socket is full (256 connections") == true, refused.line)
        XCTAssertFalse(refused.errorMessage?.contains("worker") == true, refused.line)
        let line = try host.waitForLog(containing: "too_many_connections", timeout: 20)
        XCTAssertTrue(line.contains("control socket"), line)
        withExtendedLifetime(held) {}
    }

    /// Clients of another user who may reach the control socket (a group the
    /// operator let in) but hold no token fill at most 240 of its 256
    /// slots: the operator's `berth status` still gets an answer.
    func testClientsOfAnotherUserCannotTakeTheOperatorsLastControlSlots() throws {
        guard getuid() == 0 else { throw XCTSkip("running a client as another user needs root") }
        try raiseOwnOpenFileLimit(to: 1200)
        let stranger: UInt32 = 65534
        // The other user must be able to reach the socket: through the
        // sandbox and the run directory (search only), then the socket's group.
        XCTAssertEqual(chmod(sandbox.root, 0o711), 0, "chmod \(sandbox.root): errno \(errno)")
        XCTAssertEqual(mkdir(sandbox.run, 0o711), 0, "mkdir \(sandbox.run): errno \(errno)")
        try startExampleHost()
        // A host that reset the directory's mode would lock the other user
        // out by accident; the operator's mode is what this test is about.
        XCTAssertEqual(chmod(sandbox.run, 0o711), 0, "chmod \(sandbox.run): errno \(errno)")
        XCTAssertEqual(chown(sandbox.controlSocket, 0, stranger), 0, "chown: errno \(errno)")
        XCTAssertEqual(chmod(sandbox.controlSocket, 0o660), 0, "chmod: errno \(errno)")

        let holder = try SlotHolder.start(in: sandbox.root, socket: sandbox.controlSocket, count: 256, uid: stranger)
        defer { holder.finish() }
        XCTAssertEqual(try holder.readLine(), "connected 256")
        // Accepted after all 256 (the backlog is first in, first out).
        let token = try sandbox.token()
        let answer = Result { try call("berth", "GET", "/status", token: token) }
        XCTAssertEqual(try? answer.get().status, 200, "the operator was locked out of the control socket: \(answer)")
        holder.write("count\n")
        XCTAssertEqual(try holder.readLine(), "refused 16", "256 connections of uid \(stranger): 240 served, 16 refused")
    }
}

/// A client process running as another user that opens `count` connections
/// to a socket, says so, and on a line from the test reports how many the
/// server has refused (answered and closed) so far; it holds the rest until
/// its stdin closes.
private struct SlotHolder {
    let process: Process
    let input: Pipe
    let output: Pipe

    static let source = """
    #include <grp.h>
    #include <poll.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/socket.h>
    #include <sys/un.h>
    #include <unistd.h>
    int main(int argc, char **argv) {
        if (argc != 4) return 64;
        int count = atoi(argv[2]);
        if (setgroups(0, NULL) || setgid(atoi(argv[3])) || setuid(atoi(argv[3]))) { perror("setuid"); return 3; }
        int *fds = calloc(count, sizeof(int));
        for (int i = 0; i < count; i++) {
            struct sockaddr_un a = {.sun_family = AF_UNIX};
            strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
            fds[i] = socket(AF_UNIX, SOCK_STREAM, 0);
            if (connect(fds[i], (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 2; }
        }
        printf("connected %d\\n", count);
        fflush(stdout);
        char line[64];
        if (!fgets(line, sizeof line, stdin)) return 5;
        int refused = 0;
        for (int i = 0; i < count; i++) {
            struct pollfd p = {.fd = fds[i], .events = POLLIN};
            if (poll(&p, 1, 0) > 0) refused++;
        }
        printf("refused %d\\n", refused);
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {}
        return 0;
    }
    """

    static func start(in directory: String, socket: String, count: Int, uid: UInt32) throws -> SlotHolder {
        let sourcePath = directory + "/slotholder.c", executable = directory + "/slotholder"
        try source.write(toFile: sourcePath, atomically: false, encoding: .utf8)
        try PluginBuilder.compile(sourcePath, into: executable, program: true)
        let holder = SlotHolder(process: Process(), input: Pipe(), output: Pipe())
        holder.process.executableURL = URL(fileURLWithPath: executable)
        holder.process.arguments = [socket, String(count), String(uid)]
        holder.process.standardInput = holder.input
        holder.process.standardOutput = holder.output
        try holder.process.run()
        return holder
    }

    /// One line of its output, waiting at most `timeout` seconds.
    func readLine(timeout: Double = 30) throws -> String {
        let fd = output.fileHandleForReading.fileDescriptor
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { throw HarnessError("the slot holder exited; got \(String(decoding: bytes, as: UTF8.self))") }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        throw HarnessError("the slot holder printed no line within \(timeout) s")
    }

    func write(_ text: String) {
        // A holder that already exited must fail the test, not kill it.
        signal(SIGPIPE, SIG_IGN)
        let fd = input.fileHandleForWriting.fileDescriptor
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    func finish() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }
}
