import Foundation
import XCTest

/// A plugin's `config` reaches init as the bytes of the settings file, not
/// rebuilt: numbers beyond a Double's precision or range, escapes and
/// spacing arrive exactly as written.
final class E2EConfigBytesTests: BerthTestCase {
    /// Keeps the config init received and answers it on GET /config.
    private static let configEcho = TestPlugins.prelude + #"""
    static char *config;
    static int init(const berth_host_api *api, const char *config_json) {
        (void)api;
        config = strdup(config_json);
        return config ? 0 : 1;
    }
    static void show(const berth_request *req, void *u) { (void)u; answer(req, config); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/config", .handler = show, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "configecho", .version = "1.0.0", .routes = routes, .route_count = 1,
        .init = init,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#

    func testInitReceivesTheConfigBytesAsWritten() throws {
        try PluginBuilder.build(Self.configEcho, fileName: "libconfigecho.so", into: sandbox.plugins)
        // 2^53+1, 2^64-1 and 1e400 do not survive a Double; the rest shows
        // that nothing is re-encoded or re-spaced.
        let config = #"{"odd": 9007199254740993, "max": 18446744073709551615, "huge": 1e400, "neg": -0.0, "precise": 0.1000000000000000055511151231257827, "text": "\u00e9\/ü", "list": [1E2,  true]}"#
        try (#"{"instances": 1, "config": "# + config + #", "drain_seconds": 5}"#)
            .write(toFile: sandbox.plugins + "/libconfigecho.json", atomically: true, encoding: .utf8)
        try startHost()
        // The line as read, not parsed: Foundation's parser refuses 1e400.
        let connection = try connect("configecho")
        try connection.write(WireRequest.line("GET", "/config") + "\n")
        XCTAssertEqual(try connection.readLine(), #"{"id":null,"status":200,"data":"# + config + "}")
    }
}
