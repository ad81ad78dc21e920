import Foundation
import Glibc
import XCTest

/// Processes a plugin starts (a helper from init, a fork in a handler) are
/// part of its worker: each worker leads its own process group, so they end
/// when the worker ends, count towards its memory_mb, and one left holding
/// a plugin's socket after the host was killed does not keep the plugin
/// from starting again.
final class E2EWorkerDescendantsTests: BerthTestCase {
    /// Where each worker's init appends its helper's pid.
    private var helperFile: String { sandbox.root + "/helper.pids" }
    /// Where each handler's fork appends its pid.
    private var childFile: String { sandbox.root + "/child.pids" }

    /// Writes the settings that tell the plugin where to write its children's pids.
    private func installDescendantsPlugin(settings: String = "") throws {
        try PluginBuilder.build(DescendantPlugins.source, fileName: "libkin.so", into: sandbox.plugins)
        try #"{"environment": {"HELPER_PID_FILE": "\#(helperFile)", "CHILD_PID_FILE": "\#(childFile)"}\#(settings)}"#
            .write(toFile: sandbox.plugins + "/libkin.json", atomically: true, encoding: .utf8)
    }

    private func pids(in file: String) -> [pid_t] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
    }

    /// The first helper, started by the first worker's init.
    private func helperPID() throws -> pid_t { try XCTUnwrap(pids(in: helperFile).first, "init started no helper") }

    /// The latest fork a handler made.
    private func childPID() throws -> pid_t { try XCTUnwrap(pids(in: childFile).last, "no handler forked") }

    /// Kills what a host that does not end its workers' children left.
    private func killLeftovers() {
        for pid in pids(in: helperFile) + pids(in: childFile) where pid > 1 { kill(pid, SIGKILL) }
    }

    func testAHelperStartedByInitEndsWhenTheHostStops() throws {
        try installDescendantsPlugin()
        defer { killLeftovers() }
        let host = try startHost()
        let helper = try helperPID()
        XCTAssertFalse(ProcessProbe.isGoneOrZombie(helper), "the helper init started is not running")
        host.signal(SIGTERM)
        XCTAssertEqual(try host.waitForExit(timeout: 30), 0, host.logText)
        XCTAssertTrue(ProcessProbe.waitUntilGoneOrZombie(helper, timeout: 10),
                      "helper \(helper) that init started outlived its worker and the host")
    }

    func testAForkOfACrashedWorkerEndsWithIt() throws {
        try installDescendantsPlugin()
        defer { killLeftovers() }
        let host = try startHost()
        let oldPID = try workerPID("kin")
        let mark = host.logMark
        let victim = try connect("kin")
        try victim.write(WireRequest.line("GET", "/fork-and-crash") + "\n")
        try host.waitForLog(containing: "[kin] worker \(oldPID) killed by SIGABRT; restarting in", after: mark, timeout: 30)
        try host.waitForLog(containing: "[kin] worker \(oldPID) left processes behind in its process group; killed them", after: mark)
        let child = try childPID()
        XCTAssertTrue(ProcessProbe.waitUntilGoneOrZombie(child, timeout: 10), "the crashed worker's fork \(child) is still running")
        try host.waitForLog(after: mark, where: { $0.contains("[kin] serving ") && $0.hasSuffix(", restart 1)") },
                            "announcing kin's replacement")
        XCTAssertEqual(try call("kin", "GET", "/ok").status, 200)
    }

    func testMemoryOfAWorkersChildCountsTowardsItsMemoryLimit() throws {
        try installDescendantsPlugin(settings: #", "limits": {"memory_mb": 128}"#)
        defer { killLeftovers() }
        let host = try startHost()
        let oldPID = try workerPID("kin")
        let mark = host.logMark
        // The worker itself stays well under the limit (under a sanitizer
        // too); its child holds 256 MiB.
        XCTAssertEqual(try call("kin", "GET", "/fork-and-grow").status, 200)
        let stopped = try host.waitForLog(containing: "[kin] worker \(oldPID) stopped: memory_mb limit broken", after: mark, timeout: 30)
        XCTAssertTrue(stopped.contains("limit 128 MiB (killed)"), stopped)
        XCTAssertTrue(ProcessProbe.waitUntilGoneOrZombie(try childPID(), timeout: 10), "the child that held the memory is still running")
        XCTAssertEqual(try plugin("kin", in: try status())["last_limit"] as? String, "memory_mb")
    }

    /// The host is killed with SIGKILL while a fork of its worker holds the
    /// plugin's listening socket: the worker dies with the host, the fork
    /// does not, and the socket file still has a listener. The next host
    /// sees that the process that listened (the old host) is gone, replaces
    /// the socket with a warning and serves.
    func testASocketHeldByAnOrphanAfterTheHostWasKilledIsReplaced() throws {
        try installDescendantsPlugin()
        defer { killLeftovers() }
        let first = try startHost()
        XCTAssertEqual(try call("kin", "GET", "/fork").status, 200)
        let orphan = try childPID()
        first.signal(SIGKILL)
        try first.waitForExit()
        XCTAssertFalse(ProcessProbe.isGoneOrZombie(orphan), "the fork holding the socket is gone already")

        let second = try startHost()
        let ready = try second.waitUntilReady()
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [kin], 0 failed"), ready)
        XCTAssertTrue(second.logText.contains("\(sandbox.socket("kin")) was left by berth pid \(first.pid), which is gone, and is still held open by pid \(orphan), started by its worker"),
                      second.logText)
        XCTAssertEqual(try call("kin", "GET", "/ok").status, 200)
    }

    /// Something that listens on a plugin's socket path and accepts
    /// nothing, its backlog full: the host finds out without waiting,
    /// fails that plugin with a message and serves the others.
    func testAListenerWithAFullBacklogOnAPluginsPathDoesNotHangTheHost() throws {
        try sandbox.installExamples()
        XCTAssertEqual(mkdir(sandbox.run, 0o700), 0, "mkdir: errno \(errno)")
        let squatter = try FullBacklogListener(path: sandbox.socket("greeter"))
        defer { squatter.close() }
        let host = try startHost(waitUntilReady: false)
        let ready = try host.waitUntilReady(timeout: 30)
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [cecho], 1 failed"), ready)
        let error = try XCTUnwrap(try plugin(file: "libGreeterPlugin.so", in: try status())["error"] as? String)
        XCTAssertTrue(error.contains("\(sandbox.socket("greeter")) has a listener that accepts no connections (its backlog is full)"), error)
    }

    /// The same at a reload, which once waited on it for good (and every
    /// later reload, signal and control request with it).
    func testAListenerWithAFullBacklogOnANewPluginsPathDoesNotHangAReload() throws {
        try sandbox.install(BuildProducts.greeter)
        let host = try startHost()
        let squatter = try FullBacklogListener(path: sandbox.socket("cecho"))
        defer { squatter.close() }
        try sandbox.install(BuildProducts.cecho)
        let reload = try Command.run(BuildProducts.berth, ["reload", "--run-dir", sandbox.run], environment: TestEnvironment.berth,
                                     timeout: 60)
        XCTAssertEqual(reload.status, 1, reload.stdout + reload.stderr)
        XCTAssertTrue(reload.stdout.contains("\(sandbox.socket("cecho")) has a listener that accepts no connections"),
                      reload.stdout + reload.stderr + host.logText)
        XCTAssertEqual(try call("greeter", "GET", "/hello/bob").status, 200)
    }
}

/// A listening Unix socket that never accepts, with its backlog filled by
/// connections of its own.
final class FullBacklogListener {
    private var descriptors: [Int32] = []

    init(path: String) throws {
        let listener = try Self.socket(nonBlocking: false)
        descriptors.append(listener)
        var address = Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 0) == 0 else { throw HarnessError("bind/listen \(path): errno \(errno)") }
        for _ in 0..<64 {
            let client = try Self.socket(nonBlocking: true)
            descriptors.append(client)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if connected != 0 {
                guard errno == EAGAIN else { throw HarnessError("connect \(path): errno \(errno)") }
                return
            }
        }
        throw HarnessError("the backlog of \(path) never filled")
    }

    private static func socket(nonBlocking: Bool) throws -> Int32 {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                              | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        return fd
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    func close() {
        for fd in descriptors { Glibc.close(fd) }
        descriptors.removeAll()
    }
}

/// The C plugin of E2EWorkerDescendantsTests, "kin". Its init starts a
/// helper and appends its pid to $HELPER_PID_FILE; each fork a handler
/// makes is appended to $CHILD_PID_FILE.
enum DescendantPlugins {
    static let source = TestPlugins.prelude + """
    #include <stdio.h>
    static void record(pid_t child) {
        FILE *file = fopen(getenv("CHILD_PID_FILE"), "a");
        if (file) {
            fprintf(file, "%d\\n", (int)child);
            fclose(file);
        }
    }
    /* A helper as a plugin would start one: a program run through the shell
       in the background, which outlives the shell. */
    static int setup(const berth_host_api *host, const char *config) {
        (void)host;
        (void)config;
        return system("sleep 120 & echo $! >> \\"$HELPER_PID_FILE\\"") == 0 ? 0 : 1;
    }
    /* Forks a child that sleeps a minute (holding every descriptor the
       worker has, the listening socket included) and answers. */
    static void fork_only(const berth_request *req, void *u) {
        (void)u;
        pid_t child = fork();
        if (child == 0) {
            sleep(60);
            _exit(0);
        }
        record(child);
        answer(req, "{}");
    }
    static void fork_and_crash(const berth_request *req, void *u) {
        (void)req;
        (void)u;
        pid_t child = fork();
        if (child == 0) {
            sleep(60);
            _exit(0);
        }
        record(child);
        abort();
    }
    /* The child fills 256 MiB and holds it; the worker stays small. */
    static void fork_and_grow(const berth_request *req, void *u) {
        (void)u;
        pid_t child = fork();
        if (child == 0) {
            size_t size = 256u << 20;
            char *block = malloc(size);
            if (block) memset(block, 1, size);
            sleep(60);
            _exit(0);
        }
        record(child);
        answer(req, "{}");
    }
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/fork", .handler = fork_only, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/fork-and-crash", .handler = fork_and_crash, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/fork-and-grow", .handler = fork_and_grow, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "kin", .version = "1.0.0", .routes = routes, .route_count = 4, .init = setup,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """
}
