import BerthPOSIX
import Glibc
import XCTest

/// The POSIX pieces the host uses to keep clear of what plugins and other
/// programs leave around, on real files and sockets in this process: the
/// listener probe that never waits, the reader that reads regular files
/// only, and the /proc readings behind memory_mb.
final class UnitProcessHygieneTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/bu-XXXXXX".utf8CString)
        directory = try XCTUnwrap(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
    }

    override func tearDown() {
        for name in (try? Files.list(directory)) ?? [] { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    func testTheProbeTellsNobodyAListenerAndAFullBacklogApartWithoutWaiting() throws {
        let path = directory + "/probe.sock"
        XCTAssertEqual(UnixSocket.probeListener(at: path), .nobody)
        let listener = try UnixSocket.listen(at: path, mode: 0o600, backlog: 0)
        XCTAssertEqual(UnixSocket.probeListener(at: path), .listening(listenerPID: getpid()))
        // Each probe leaves a connection nobody accepts in the backlog
        // (a blocking connect here would wait for good once it is full).
        var probes = 1
        while UnixSocket.probeListener(at: path) != .backlogFull {
            probes += 1
            guard probes < 64 else { return XCTFail("the backlog never filled") }
        }
        listener.close()
        XCTAssertEqual(UnixSocket.probeListener(at: path), .nobody, "a socket file nobody listens on is stale")
    }

    func testOnlyRegularFilesUnderTheCapAreRead() throws {
        let fifo = directory + "/fifo.so"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try Files.readRegularFile(fifo, maximumBytes: 1 << 20, whenTooLarge: "-")) {
            XCTAssertEqual("\($0)", "\(fifo) is a FIFO, not a regular file: put the file itself there, not a FIFO, device or a symlink to one")
        }
        XCTAssertThrowsError(try Files.readRegularFile("/dev/zero", maximumBytes: 1 << 20, whenTooLarge: "-")) {
            XCTAssertTrue("\($0)".hasPrefix("/dev/zero is a character device, not a regular file"), "\($0)")
        }
        let file = directory + "/small.so"
        try Files.writeAtomically(file, Array(repeating: 7, count: 3 << 20), mode: 0o600)
        XCTAssertThrowsError(try Files.readRegularFile(file, maximumBytes: 2 << 20, whenTooLarge: "do this")) {
            XCTAssertEqual("\($0)", "\(file) is \(3 << 20) bytes, over the limit of 2 MiB for this file: do this")
        }
        XCTAssertEqual(try Files.readRegularFile(file, maximumBytes: 3 << 20, whenTooLarge: "-").count, 3 << 20)
    }

    func testProcFSSeesThisProcessGroupAndThisProcess() throws {
        let resident = ProcFS.residentBytes(ofGroups: [getpgrp()])
        XCTAssertGreaterThan(resident[getpgrp()] ?? 0, 1 << 20, "\(resident)")
        XCTAssertTrue(ProcFS.residentBytes(ofGroups: []).isEmpty)
        XCTAssertTrue(ProcFS.isRunning(getpid()))
        XCTAssertFalse(ProcFS.isRunning(0))
    }
}
