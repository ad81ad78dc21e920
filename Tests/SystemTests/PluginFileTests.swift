import Foundation
import Glibc
import XCTest

/// Things in the plugins folder that are named `*.so` but are not a
/// library the host can read whole: a FIFO (an open waits for a writer), a
/// symlink to /dev/zero (a read never ends), a file far too large. Each is
/// refused with a message and the other plugins serve.
final class E2EPluginFileTests: BerthTestCase {
    /// The failed entry for `file`, after checking the greeter serves.
    private func refusal(of file: String, host: BerthHost) throws -> String {
        let ready = try host.waitUntilReady(timeout: 30)
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [greeter], 1 failed"), ready)
        XCTAssertEqual(try call("greeter", "GET", "/hello/bob").status, 200)
        let entry = try plugin(file: file, in: try status())
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
        let error = try XCTUnwrap(entry["error"] as? String, "\(entry)")
        XCTAssertTrue(host.logText.contains(error), "the reason is not in the log: \(error)\n\(host.logText)")
        return error
    }

    func testAFIFONamedLikeAPluginIsRefusedWithoutBlockingTheHost() throws {
        try sandbox.install(BuildProducts.greeter)
        XCTAssertEqual(mkfifo(sandbox.plugins + "/libfifo.so", 0o600), 0, "mkfifo: errno \(errno)")
        // Not waiting for ready here: on a host that opens the FIFO and
        // blocks, ready never comes, which `refusal` reports.
        let host = try startHost(waitUntilReady: false)
        let error = try refusal(of: "libfifo.so", host: host)
        XCTAssertTrue(error.contains("libfifo.so is a FIFO, not a regular file"), error)
    }

    func testASymlinkToDevZeroIsRefusedBeforeAnythingIsRead() throws {
        try sandbox.install(BuildProducts.greeter)
        try FileManager.default.createSymbolicLink(atPath: sandbox.plugins + "/libzero.so", withDestinationPath: "/dev/zero")
        let host = try startHost(waitUntilReady: false, executable: try memoryBoundedBerth())
        let error = try refusal(of: "libzero.so", host: host)
        XCTAssertTrue(error.contains("libzero.so is a character device, not a regular file"), error)
    }

    func testAPluginFileOverTheSizeLimitIsRefusedNamingTheLimit() throws {
        try sandbox.install(BuildProducts.greeter)
        // Sparse: costs no disk.
        let path = sandbox.plugins + "/libhuge.so"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertEqual(truncate(path, 300 << 20), 0, "truncate: errno \(errno)")
        let host = try startHost(waitUntilReady: false)
        let error = try refusal(of: "libhuge.so", host: host)
        XCTAssertTrue(error.contains("libhuge.so is \(300 << 20) bytes, over the limit of 256 MiB"), error)
    }

    /// berth under a 4 GiB address-space limit, so a host that reads
    /// /dev/zero fails alone instead of taking the machine's memory (the
    /// suite shares it). Not under a sanitizer, which maps far more.
    private func memoryBoundedBerth() throws -> String {
        if ProcessProbe.underSanitizer { return BuildProducts.berth }
        let wrapper = sandbox.root + "/berth-bounded"
        try "#!/bin/sh\nulimit -v 4194304\nexec '\(BuildProducts.berth)' \"$@\"\n"
            .write(toFile: wrapper, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(wrapper, 0o755), 0)
        return wrapper
    }
}
