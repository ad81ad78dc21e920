import Foundation
import Glibc
import XCTest

/// berth.pid: one host per run directory, even while another stops, and
/// never left behind by a host that did not start.
final class E2EPidFileTests: BerthTestCase {
    private var pidFile: String { sandbox.run + "/berth.pid" }

    /// An LD_PRELOAD library that holds the host's first flock() on
    /// berth.pid until the test writes a byte into the FIFO named by
    /// BERTH_TEST_FLOCK_GATE. The window between a host's open() of the pid
    /// file and its flock() is a few instructions wide; this makes it as
    /// wide as the test needs, without changing what berth does in it.
    private static let flockGate = """
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <fcntl.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <unistd.h>

    int flock(int fd, int operation) {
        static int (*real)(int, int);
        static int gated;
        if (!real) real = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
        const char *gate = getenv("BERTH_TEST_FLOCK_GATE");
        char link[64], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (gate && !gated && n > 0) {
            target[n] = 0;
            if (strstr(target, "/berth.pid")) {
                gated = 1;
                int g = open(gate, O_RDONLY);
                if (g >= 0) { char c; if (read(g, &c, 1) < 0) {} close(g); }
            }
        }
        return real(fd, operation);
    }
    """

    /// A host that opened berth.pid just before the stopping host unlinked
    /// it must not lock that unlinked file and serve with no pid file (a
    /// third host would then serve the same run directory beside it).
    func testHostStartingWhileAnotherStopsLocksTheFileAtThePath() throws {
        guard !ProcessProbe.underSanitizer else { throw XCTSkip("a sanitizer runtime must come first in LD_PRELOAD") }
        try sandbox.install(BuildProducts.cecho)
        let gateLibrary = try PluginBuilder.build(Self.flockGate, fileName: "flockgate.so", into: sandbox.root, flags: ["-ldl"])
        let gate = sandbox.root + "/gate"
        XCTAssertEqual(mkfifo(gate, 0o600), 0)

        let stopping = try startHost()
        let starting = try startHost(waitUntilReady: false,
                                     environment: ["LD_PRELOAD": gateLibrary, "BERTH_TEST_FLOCK_GATE": gate])
        // The FIFO has a reader once the starting host has opened berth.pid
        // and sits in flock(): until then a non-blocking open finds none.
        var writer: Int32 = -1
        XCTAssertTrue(eventually(timeout: 20) {
            writer = open(gate, O_WRONLY | O_NONBLOCK)
            return writer >= 0 || !starting.process.isRunning
        }, "the starting host never reached flock(berth.pid)")
        XCTAssertGreaterThanOrEqual(writer, 0, "the starting host exited first; log:\n\(starting.logText)")
        defer { close(writer) }

        stopping.signal(SIGTERM)
        XCTAssertEqual(try stopping.waitForExit(), 0)
        XCTAssertEqual(write(writer, "go", 1), 1)
        try starting.waitUntilReady()

        let named = try? String(contentsOfFile: pidFile, encoding: .utf8)
        XCTAssertEqual(named, "\(starting.pid)\n", "berth.pid does not name the host that serves")
        // And the lock still keeps a third host out.
        let third = try startHost(waitUntilReady: false)
        XCTAssertEqual(try third.waitForExit(), 1, "a second host serves the same run directory")
        try third.waitForLog(containing: "another berth (pid \(starting.pid)) is serving \(sandbox.run)")
    }

    // MARK: a full disk

    /// Mounts a 64 KiB tmpfs at `<sandbox>/disk` and fills it, leaving
    /// `freePages` pages free; the caller unmounts it.
    private func mountFullDisk(freePages: Int) throws -> String {
        let disk = sandbox.root + "/disk"
        XCTAssertEqual(mkdir(disk, 0o700), 0)
        let mounted = try Command.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", disk])
        guard mounted.status == 0 else {
            throw XCTSkip("a full disk is made with a small tmpfs, and mount failed here: \(mounted.stderr)")
        }
        let filler = open(disk + "/filler", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(filler, 0)
        defer { close(filler) }
        let page = [UInt8](repeating: 0, count: 4096)
        var written = 0
        while true {
            let n = page.withUnsafeBytes { write(filler, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
        XCTAssertEqual(errno, ENOSPC)
        // tmpfs counts whole pages: freeing n pages lets n small files in.
        XCTAssertEqual(ftruncate(filler, off_t(written / 4096 * 4096 - freePages * 4096)), 0)
        return disk
    }

    private func unmount(_ disk: String) {
        _ = try? Command.run("/bin/umount", ["-l", disk])
    }

    private func expectFullDiskRefusal(runDirectory: String, naming file: String) throws {
        let host = try startHost(["--run-dir", runDirectory], waitUntilReady: false)
        XCTAssertEqual(try host.waitForExit(), 1)
        let line = try host.waitForLog(containing: "cannot start: ")
        XCTAssertTrue(line.contains("write(\(runDirectory)/\(file)): No space left on device"), "the message must name the file: \(line)")
        XCTAssertTrue(line.contains("free space on the file system that holds \(runDirectory)"), "the message must say what to do: \(line)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: runDirectory + "/berth.pid"), "berth.pid left behind by a host that did not start")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? []
        XCTAssertFalse(left.contains { $0.contains(".tmp.") }, "a temporary file left behind: \(left)")
    }

    func testFullDiskAtThePidFileNamesItAndLeavesNoPidFile() throws {
        try sandbox.install(BuildProducts.cecho)
        let disk = try mountFullDisk(freePages: 0)
        defer { unmount(disk) }
        try expectFullDiskRefusal(runDirectory: disk + "/run", naming: "berth.pid")
    }

    func testFullDiskAtTheTokenNamesItAndLeavesNoPidFile() throws {
        try sandbox.install(BuildProducts.cecho)
        // Room for berth.pid, none for .auth_token.
        let disk = try mountFullDisk(freePages: 1)
        defer { unmount(disk) }
        try expectFullDiskRefusal(runDirectory: disk + "/run", naming: ".auth_token")
    }
}
