import Foundation
import Glibc
import XCTest

/// How many connections a worker serves: up to its maximum, all of them
/// served at once; past it, a clear 503 line and a close, never a hang.
final class E2EConnectionLimitTests: BerthTestCase {
    func testConnectionsPastTheMaximumGetA503LineAndAreClosed() throws {
        let host = try startExampleHost(["--max-connections", "5"])
        let worker = try workerPID("cecho")
        var held = try (0..<5).map { _ in try connect("cecho") }
        // Answered, so each is accepted and counted by the worker.
        for (i, connection) in held.enumerated() {
            XCTAssertEqual(try connection.call("GET", "/ping", id: "\(i)").rawID, "\(i)")
        }

        // The sixth gets the line without having sent anything, then the close.
        let silent = try connect("cecho")
        let refused = try silent.readResponse()
        XCTAssertEqual(refused.status, 503, refused.line)
        XCTAssertEqual(refused.errorCode, "too_many_connections", refused.line)
        XCTAssertTrue(refused.errorMessage?.contains("already serves 5 connections") == true, refused.line)
        XCTAssertTrue(refused.errorMessage?.contains("--max-connections") == true, refused.line)
        XCTAssertTrue(try silent.isClosedByServer())
        // One that sends a request at once gets the same line, not a reset
        // (its write may find the server gone already: the line still waits).
        let eager = try connect("cecho")
        try? eager.write(WireRequest.line("GET", "/ping") + "\n")
        XCTAssertEqual(try eager.readResponse().errorCode, "too_many_connections")
        try host.waitForLog(containing: "refused ")
        XCTAssertTrue(host.logText.contains("with 503 too_many_connections: already serving 5"), host.logText)

        // The five still work; once one closes, a new client is served.
        for connection in held { XCTAssertEqual(try connection.call("GET", "/ping").status, 200) }
        held.removeLast().close()
        var served: WireResponse?
        // The worker frees the slot when it reads the close: retry, bounded.
        XCTAssertTrue(eventually {
            served = try? self.connect("cecho").call("GET", "/ping", id: "\"new\"")
            return served?.status == 200
        }, "no new connection served after one closed: \(served?.line ?? "nothing")")
        XCTAssertEqual(served?.rawID, "\"new\"")
        XCTAssertEqual(try workerPID("cecho"), worker)
    }

    func testAThousandConcurrentConnectionsToOnePluginAreAllServed() throws {
        try raiseOwnOpenFileLimit(to: 1200)
        let host = try startExampleHost()
        let worker = try workerPID("cecho")
        let token = try sandbox.token()
        let count = 1000
        var connections: [WireConnection] = []
        for _ in 0..<count { connections.append(try connect("cecho", timeout: 20)) }
        for (i, connection) in connections.enumerated() {
            try connection.write(WireRequest.line("POST", "/echo", token: token, data: "[\(i)]", id: "\(i)") + "\n")
        }
        for (i, connection) in connections.enumerated() {
            XCTAssertEqual(try connection.readLine(), #"{"id":\#(i),"status":200,"data":[\#(i)]}"#)
        }
        // Every one answered and still open: the worker holds them all at once.
        XCTAssertGreaterThanOrEqual(try ProcessProbe.descriptorCount(worker), count)
        // And each can go on.
        for (i, connection) in connections.enumerated() where i % 100 == 0 {
            XCTAssertEqual(try connection.call("GET", "/ping").status, 200)
        }
        XCTAssertFalse(host.logText.contains("refused"), host.logText)
        XCTAssertEqual(try workerPID("cecho"), worker)
    }

    /// `GET /hog` lowers the worker's soft open-file limit to 256 and opens
    /// /dev/null until none is left; `GET /release` gives them all back.
    private static let descriptorHog = TestPlugins.prelude + """
    #include <fcntl.h>
    #include <stdio.h>
    #include <sys/resource.h>
    static int held[256];
    static int count;
    static struct rlimit original;
    static void hog(const berth_request *req, void *u) {
        (void)u;
        getrlimit(RLIMIT_NOFILE, &original);
        struct rlimit low = {256, original.rlim_max};
        setrlimit(RLIMIT_NOFILE, &low);
        int fd;
        while (count < 256 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) held[count++] = fd;
        char body[64];
        snprintf(body, sizeof body, "{\\"held\\":%d}", count);
        answer(req, body);
    }
    static void release(const berth_request *req, void *u) {
        (void)u;
        while (count > 0) close(held[--count]);
        setrlimit(RLIMIT_NOFILE, &original);
        answer(req, "{}");
    }
    static void ping(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/hog", .handler = hog, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/release", .handler = release, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "hog", .version = "1.0.0", .routes = routes, .route_count = 3,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    func testAWorkerOutOfDescriptorsStillAnswers503AndRecovers() throws {
        try PluginBuilder.build(Self.descriptorHog, fileName: "libhog.so", into: sandbox.plugins)
        let host = try startHost()
        let worker = try workerPID("hog")
        let hogger = try connect("hog")
        let held = try hogger.call("GET", "/hog")
        XCTAssertGreaterThan(jsonInt(held.dataObject?["held"]) ?? 0, 0, held.line)

        // No descriptor left for a connection: told so, and closed, not
        // left waiting in the backlog (the old accept loop spun on EMFILE).
        for _ in 0..<3 {
            let refused = try connect("hog").readResponse()
            XCTAssertEqual(refused.status, 503, refused.line)
            XCTAssertEqual(refused.errorCode, "too_many_connections", refused.line)
            XCTAssertTrue(refused.errorMessage?.contains("no file descriptors left") == true, refused.line)
        }
        try host.waitForLog(containing: "connection(s) with 503 too_many_connections: out of file descriptors")

        XCTAssertEqual(try hogger.call("GET", "/release").status, 200)
        XCTAssertEqual(try connect("hog").call("GET", "/ping").status, 200)
        XCTAssertEqual(try workerPID("hog"), worker)
    }

    /// Host and workers raise their soft open-file limit to the hard one, so
    /// a low default soft limit (often 1024) does not cap connections.
    func testHostAndWorkersRaiseTheirOpenFileLimit() throws {
        try sandbox.installExamples()
        var original = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &original)
        guard original.rlim_max > 256 else { throw XCTSkip("hard open-file limit \(original.rlim_max) is too low to tell") }
        // The host inherits a soft limit of 256 from this process.
        var lowered = original
        lowered.rlim_cur = 256
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered), 0)
        let host: BerthHost
        do {
            defer { setrlimit(Int32(RLIMIT_NOFILE.rawValue), &original) }
            host = try startHost(waitUntilReady: false)
        }
        try host.waitUntilReady()
        for pid in [host.pid, try workerPID("cecho"), try workerPID("greeter")] {
            let (soft, hard) = try openFileLimit(of: pid)
            XCTAssertEqual(soft, hard, "pid \(pid) kept a soft open-file limit below the hard one")
        }
    }

    /// Max open files of a process, from /proc/<pid>/limits.
    private func openFileLimit(of pid: pid_t) throws -> (soft: String, hard: String) {
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try XCTUnwrap(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let fields = line.dropFirst("Max open files".count).split(separator: " ")
        XCTAssertGreaterThanOrEqual(fields.count, 2, String(line))
        return (String(fields[0]), String(fields[1]))
    }
}

/// Raises this test process's soft open-file limit to at least `needed`
/// (many client sockets), or skips when the hard limit does not allow it.
func raiseOwnOpenFileLimit(to needed: rlim_t) throws {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur >= needed { return }
    guard limit.rlim_max >= needed else {
        throw XCTSkip("the hard open-file limit is \(limit.rlim_max); this test needs \(needed)")
    }
    limit.rlim_cur = limit.rlim_max
    guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
        throw HarnessError("setrlimit(RLIMIT_NOFILE) failed: errno \(errno)")
    }
}
