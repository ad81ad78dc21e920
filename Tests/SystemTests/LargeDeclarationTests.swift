import Foundation
import Glibc
import XCTest

/// A plugin that declares a lot: what it declares reaches the host whole
/// (every route listed and served, a long version shown in full), or the
/// plugin is refused with a message naming the limit; never cut silently,
/// never a crash.
final class E2ELargeDeclarationTests: BerthTestCase {
    /// Short routes, so the `loaded` message is small enough to send in one
    /// datagram but larger than a receive of one datagram once held (it
    /// was cut there, silently, to 2,665 routes).
    func testAllFourThousandRoutesAreListedAndServed() throws {
        try PluginBuilder.build(LargeDeclarationPlugins.shortRoutes(4_000), fileName: "libshort.so", into: sandbox.plugins)
        let host = try startHost(waitUntilReady: false)
        let ready = try host.waitUntilReady(timeout: 60)
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [short], 0 failed"), ready)
        let listed = try connect("berth", timeout: 60).call("GET", "/plugins/short/routes", token: try sandbox.token())
        XCTAssertEqual(listed.status, 200, String(listed.line.prefix(300)))
        let routes = try XCTUnwrap(listed.dataObject?["routes"] as? [[String: Any]], String(listed.line.prefix(300)))
        XCTAssertEqual(routes.count, 4_000)
        XCTAssertEqual(routes.last?["pattern"] as? String, "/r3999")
        for route in [3_999, 2_665, 0] {
            let answer = try connect("short", timeout: 60).call("GET", "/r\(route)")
            XCTAssertEqual(answer.status, 200, answer.line)
            XCTAssertEqual(jsonInt(answer.dataObject?["route"]), route, answer.line)
        }
    }

    func testAOneMegabyteVersionArrivesWhole() throws {
        try PluginBuilder.build(LargeDeclarationPlugins.longVersion(bytes: 1 << 20), fileName: "liblongversion.so",
                                into: sandbox.plugins)
        let host = try startHost(waitUntilReady: false)
        let ready = try host.waitUntilReady(timeout: 60)
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [longversion], 0 failed"), String(ready.prefix(300)))
        XCTAssertEqual(try call("longversion", "GET", "/ping").status, 200)
        let version = try XCTUnwrap(try plugin("longversion", in: try status())["version"] as? String)
        XCTAssertEqual(version.utf8.count, 1 << 20)
        XCTAssertTrue(version.utf8.allSatisfy { $0 == UInt8(ascii: "v") }, "the version changed on the way")
    }

    /// Over one datagram of the old channel (64 KiB), under its socket's
    /// buffer: init got the first 64 KiB, invalid JSON, without a word.
    func testA100KiBConfigReachesInitWhole() throws {
        try PluginBuilder.build(ChannelPlugins.configDigest, fileName: "libdigest.so", into: sandbox.plugins)
        let config = #"{"blob":""# + String(repeating: "z", count: 100 * 1024) + #""}"#
        try #"{"config": "#.appending(config).appending("}")
            .write(toFile: sandbox.plugins + "/libdigest.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [digest], 0 failed"), host.logText)
        let answer = try call("digest", "GET", "/config")
        XCTAssertEqual(jsonInt(answer.dataObject?["length"]), config.utf8.count, answer.line)
    }

    /// A settings file over the channel's limit for a config (64 MiB) is
    /// refused before it is read, with the limit and what to do.
    func testAConfigOverTheChannelLimitIsRefusedNamingTheLimit() throws {
        try sandbox.install(BuildProducts.greeter)
        try PluginBuilder.build(ChannelPlugins.configDigest, fileName: "libdigest.so", into: sandbox.plugins)
        let settings = sandbox.plugins + "/libdigest.json"
        let blob = [UInt8](repeating: UInt8(ascii: "z"), count: 65 << 20)
        XCTAssertTrue(FileManager.default.createFile(atPath: settings,
                                                     contents: Data(#"{"config": {"blob": ""#.utf8) + Data(blob) + Data(#""}}"#.utf8)))
        let host = try startHost(waitUntilReady: false)
        let ready = try host.waitUntilReady(timeout: 60)
        XCTAssertTrue(ready.contains("ready: 1 plugin(s) serving [greeter], 1 failed"), ready)
        let error = try XCTUnwrap(try plugin(file: "libdigest.so", in: try status())["error"] as? String)
        XCTAssertTrue(error.contains("libdigest.json is \((65 << 20) + 24) bytes, over the limit of 64 MiB for this file: keep config small"), error)
    }

    func testARouteCountOfTwoToTheFortiethIsRefusedWithAMessage() throws {
        try sandbox.install(BuildProducts.greeter)
        try PluginBuilder.build(LargeDeclarationPlugins.hugeRouteCount, fileName: "libhugecount.so", into: sandbox.plugins)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [greeter], 1 failed"), host.logText)
        let entry = try plugin(file: "libhugecount.so", in: try status())
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
        let error = try XCTUnwrap(entry["error"] as? String, "\(entry)")
        XCTAssertTrue(error.contains("route_count is 1099511627776; the limit is 10000 routes per plugin"), error)
        XCTAssertFalse(host.logText.contains("SIGABRT"), host.logText)
    }
}

/// The C plugins of E2ELargeDeclarationTests.
enum LargeDeclarationPlugins {
    /// Plugin "longversion" whose version is `bytes` letters v, made by
    /// the entry function.
    static func longVersion(bytes: Int) -> String {
        TestPlugins.prelude + """
        static char version[\(bytes) + 1];
        static void ping(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
        };
        static berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "longversion", .version = version, .routes = routes, .route_count = 1,
        };
        const berth_plugin *berth_plugin_entry(void) {
            memset(version, 'v', \(bytes));
            return &plugin;
        }
        """
    }

    /// Plugin "short": `GET /r0` ... `GET /r<count - 1>`, each answering its
    /// number, built when the entry function first runs.
    static func shortRoutes(_ count: Int) -> String {
        TestPlugins.prelude + """
        #include <stdint.h>
        #include <stdio.h>
        #define COUNT \(count)
        static berth_route routes[COUNT];
        static char patterns[COUNT][16];
        static berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "short", .version = "1.0.0", .routes = routes, .route_count = COUNT,
        };
        static void numbered(const berth_request *req, void *u) {
            char json[32];
            snprintf(json, sizeof json, "{\\"route\\":%d}", (int)(intptr_t)u);
            answer(req, json);
        }
        const berth_plugin *berth_plugin_entry(void) {
            for (int i = 0; i < COUNT; i++) {
                snprintf(patterns[i], sizeof patterns[i], "/r%d", i);
                routes[i] = (berth_route){.method = "GET", .pattern = patterns[i], .handler = numbered,
                                          .user_data = (void *)(intptr_t)i, .flags = BERTH_ROUTE_PUBLIC};
            }
            return &plugin;
        }
        """
    }

    /// A route table of one entry that claims 2^40.
    static let hugeRouteCount = TestPlugins.prelude + """
    static void ping(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "hugecount", .version = "1.0.0", .routes = routes, .route_count = (size_t)1 << 40,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """
}
