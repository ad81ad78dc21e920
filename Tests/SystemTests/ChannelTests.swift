import Foundation
import Glibc
import XCTest

/// The host <-> worker channel on real workers. Messages larger than one
/// datagram, or than the socket's buffer, arrive whole: a large config
/// reaches init byte for byte, and a plugin with the loader's maximum of
/// routes loads and serves them. The descriptors a worker inherits are
/// close-on-exec, so a program a plugin runs cannot hold them.
final class E2EChannelTests: BerthTestCase {
    /// FNV-1a, 64 bits: what the plugin below computes over its config.
    private func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    func testA300KiBConfigReachesInitWhole() throws {
        try PluginBuilder.build(ChannelPlugins.configDigest, fileName: "libdigest.so", into: sandbox.plugins)
        // The host hands init the config re-serialized: compact, members
        // in order; a string of plain letters is written as it is here.
        let blob = String((0..<300 * 1024).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
        let config = #"{"blob":""# + blob + #"","n":1}"#
        try #"{"config": "#.appending(config).appending("}")
            .write(toFile: sandbox.plugins + "/libdigest.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [digest], 0 failed"), host.logText)
        let answer = try call("digest", "GET", "/config")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["length"]), config.utf8.count, answer.line)
        XCTAssertEqual(answer.dataObject?["fnv"] as? String, fnv1a(Array(config.utf8)), answer.line)
    }

    func testTenThousandRoutesLoadAndTheLastOneServes() throws {
        try PluginBuilder.build(ChannelPlugins.manyRoutes(10_000), fileName: "libmany.so", into: sandbox.plugins)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [many], 0 failed"), host.logText)
        let paths = ChannelPlugins.manyRoutePaths(10_000)
        for route in [9_999, 0] {
            let answer = try connect("many", timeout: 60).call(ChannelPlugins.methods[route % 5], paths[route])
            XCTAssertEqual(answer.status, 200, answer.line)
            XCTAssertEqual(jsonInt(answer.dataObject?["route"]), route, answer.line)
        }
    }
}

extension E2EChannelTests {
    func testInheritedDescriptorsAreCloseOnExec() throws {
        try PluginBuilder.build(ChannelPlugins.descriptorFlags, fileName: "libfds.so", into: sandbox.plugins)
        try startHost()
        let answer = try call("fds", "GET", "/flags")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["channel"]), Int(FD_CLOEXEC), answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["stats"]), Int(FD_CLOEXEC), answer.line)
    }
}

extension E2EChannelTests {
    /// A worker that forks and then crashes leaves its child holding the
    /// worker's end of the channel, so the channel never reports its end:
    /// the host reads what is there and goes on (restart, status) instead of
    /// waiting for the child to exit.
    func testAChildHoldingACrashedWorkersChannelDoesNotStopTheHost() throws {
        try PluginBuilder.build(ChannelPlugins.forker, fileName: "libforker.so", into: sandbox.plugins)
        let pidFile = sandbox.root + "/child.pid"
        try #"{"environment": {"CHILD_PID_FILE": "\#(pidFile)"}}"#
            .write(toFile: sandbox.plugins + "/libforker.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        let oldPID = try workerPID("forker")
        let mark = host.logMark
        let victim = try connect("forker")
        try victim.write(WireRequest.line("GET", "/fork-and-crash") + "\n")
        defer {
            if let child = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap({ pid_t($0) }) { kill(child, SIGKILL) }
        }
        try host.waitForLog(containing: "[forker] worker \(oldPID) killed by SIGABRT; restarting in", after: mark)
        try host.waitForLog(after: mark, where: { $0.contains("[forker] serving ") && $0.hasSuffix(", restart 1)") },
                            "announcing forker's replacement")
        XCTAssertEqual(try call("forker", "GET", "/ok").status, 200)
        XCTAssertEqual(jsonInt(try plugin("forker", in: try status())["restarts"]), 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pidFile), "the child was never started")
    }
}

/// The C plugins of these tests.
enum ChannelPlugins {
    /// `GET /config` answers the length and FNV-1a hash of the config its
    /// init received.
    static let configDigest = TestPlugins.prelude + """
    #include <stdio.h>
    static size_t config_length;
    static unsigned long long config_hash = 0xcbf29ce484222325ULL;
    static int setup(const berth_host_api *host, const char *config) {
        (void)host;
        config_length = strlen(config);
        for (size_t i = 0; i < config_length; i++) {
            config_hash = (config_hash ^ (unsigned char)config[i]) * 0x100000001b3ULL;
        }
        return 0;
    }
    static void digest(const berth_request *req, void *u) {
        (void)u;
        char json[96];
        snprintf(json, sizeof json, "{\\"length\\":%zu,\\"fnv\\":\\"%016llx\\"}", config_length, config_hash);
        answer(req, json);
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/config", .handler = digest, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "digest", .version = "1.0.0", .routes = routes, .route_count = 1, .init = setup,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    /// `GET /flags` answers the descriptor flags of the channel (3) and
    /// the stats block (5) as init saw them.
    static let descriptorFlags = TestPlugins.prelude + """
    #include <fcntl.h>
    #include <stdio.h>
    static int channel_flags = -2, stats_flags = -2;
    static int setup(const berth_host_api *host, const char *config) {
        (void)host;
        (void)config;
        channel_flags = fcntl(3, F_GETFD);
        stats_flags = fcntl(5, F_GETFD);
        return 0;
    }
    static void flags(const berth_request *req, void *u) {
        (void)u;
        char json[64];
        snprintf(json, sizeof json, "{\\"channel\\":%d,\\"stats\\":%d}", channel_flags, stats_flags);
        answer(req, json);
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/flags", .handler = flags, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "fds", .version = "1.0.0", .routes = routes, .route_count = 1, .init = setup,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    /// `GET /fork-and-crash` forks a child that sleeps for a minute,
    /// writes its pid to $CHILD_PID_FILE and aborts; `GET /ok` answers.
    static let forker = TestPlugins.prelude + """
    #include <stdio.h>
    static void fork_and_crash(const berth_request *req, void *u) {
        (void)req;
        (void)u;
        pid_t child = fork();
        if (child == 0) {
            sleep(60);
            _exit(0);
        }
        FILE *file = fopen(getenv("CHILD_PID_FILE"), "w");
        if (file) {
            fprintf(file, "%d", (int)child);
            fclose(file);
        }
        abort();
    }
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/fork-and-crash", .handler = fork_and_crash, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "forker", .version = "1.0.0", .routes = routes, .route_count = 2,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    /// `count` routes, built when the entry function first runs; each
    /// answers its number. Route i's segments follow the i-th word over
    /// {parameter, literal} in pre-order (`{p}` before `x`, a word before
    /// its extensions), up to 13 segments, and methods take turns: so each
    /// route is more specific than every one before it and shares its
    /// method and length with few, which keeps the worker's router, which
    /// compares each new route with all it has (O(n^2)), to seconds in a
    /// debug build.
    static func manyRoutes(_ count: Int) -> String {
        TestPlugins.prelude + """
        #include <stdint.h>
        #include <stdio.h>
        #define COUNT \(count)
        static berth_route routes[COUNT];
        static char patterns[COUNT][13 * 6 + 1];
        static const char *methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
        static berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "many", .version = "1.0.0", .routes = routes, .route_count = COUNT,
        };
        static int made;
        static void numbered(const berth_request *req, void *u) {
            char json[32];
            snprintf(json, sizeof json, "{\\"route\\":%d}", (int)(intptr_t)u);
            answer(req, json);
        }
        /* Makes `prefix` (`depth` segments) a route, then its extensions. */
        static void visit(char *prefix, int length, int depth) {
            if (made == COUNT || depth > 13) return;
            if (depth > 0) {
                memcpy(patterns[made], prefix, (size_t)length + 1);
                routes[made] = (berth_route){.method = methods[made % 5], .pattern = patterns[made], .handler = numbered,
                                             .user_data = (void *)(intptr_t)made, .flags = BERTH_ROUTE_PUBLIC};
                made++;
            }
            visit(prefix, length + sprintf(prefix + length, "/{p%d}", depth), depth + 1);
            visit(prefix, length + sprintf(prefix + length, "/x"), depth + 1);
            prefix[length] = 0;
        }
        const berth_plugin *berth_plugin_entry(void) {
            char prefix[13 * 6 + 1] = "";
            if (made == 0) visit(prefix, 0, 0);
            return &plugin;
        }
        """
    }

    /// A request path for each route of manyRoutes: `v` for a parameter.
    static func manyRoutePaths(_ count: Int) -> [String] {
        var paths: [String] = []
        func visit(_ prefix: String, depth: Int) {
            guard paths.count < count, depth <= 13 else { return }
            if depth > 0 { paths.append(prefix) }
            visit(prefix + "/v", depth: depth + 1)
            visit(prefix + "/x", depth: depth + 1)
        }
        visit("", depth: 0)
        return paths
    }
}
