import Foundation
import XCTest

/// A host with many plugins holds many descriptors, numbered anywhere; each
/// worker must still get its own channel, library and stats block as fds
/// 3, 4 and 5 (a staging bug once handed one worker a socket as its library).
final class E2EManyPluginsTests: BerthTestCase {
    func testThirtyPluginsAllServe() throws {
        let names = (1...30).map { "p\($0)" }
        try PluginBuilder.buildAll(names.map { name in
            (fileName: "lib\(name).so", source: """
            #include <berth.h>
            static void hi(const berth_request *req, void *u) {
                (void)u;
                static const char body[] = "\\"\(name)\\"";
                req->host->respond(req, 200, body, sizeof body - 1);
            }
            static const berth_route routes[] = {{.method = "GET", .pattern = "/name", .handler = hi, .flags = BERTH_ROUTE_PUBLIC}};
            static const berth_plugin plugin = {BERTH_PLUGIN_HEADER, .name = "\(name)", .version = "1",
                                                .routes = routes, .route_count = 1};
            const berth_plugin *berth_plugin_entry(void) { return &plugin; }
            """)
        }, into: sandbox.plugins)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 30 plugin(s) serving"), host.logText)
        for name in names {
            let response = try call(name, "GET", "/name")
            XCTAssertEqual(response.status, 200, response.line)
            XCTAssertTrue(response.line.contains("\"data\":\"\(name)\""), response.line)
        }
    }
}
