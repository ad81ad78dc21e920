import Foundation
import XCTest

/// A plugin built against an older berth.h keeps loading and serving on
/// today's host. Tests/SystemTests/FrozenHeaders holds every released
/// header byte for byte (berth-1.0.h from git history, berth-1.1.h as it
/// was when ABI 1.2 was appended): each is copied as berth.h into an
/// include directory of its own, a plugin is compiled against it the way
/// berth.h says (cc -shared -fPIC), and the host must load it, report the
/// ABI it was built with, and answer its routes.
final class E2EFrozenHeaderTests: BerthTestCase {
    static let frozenDirectory = PluginBuilder.repositoryRoot + "/Tests/SystemTests/FrozenHeaders"

    /// Only what every header since 1.0 has: the descriptor, a route with a
    /// {param}, respond and respond_error.
    static func source(name: String) -> String {
        """
        #include <berth.h>
        #include <stdio.h>
        #include <string.h>

        static void hello(const berth_request *req, void *u) {
            (void)u;
            char body[128];
            /* The host offers only the members this header knows. */
            int n = snprintf(body, sizeof body, "{\\"abi\\":\\"%d.%d\\",\\"name_len\\":%zu,\\"host_size_is_ours\\":%s}",
                             BERTH_ABI_MAJOR, BERTH_ABI_MINOR, req->params[0].value.len,
                             req->host->size == sizeof(berth_host_api) ? "true" : "false");
            req->host->respond(req, 200, body, (size_t)n);
        }
        static void fail(const berth_request *req, void *u) {
            (void)u;
            req->host->respond_error(req, 409, "conflict", "try again");
        }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/hello/{name}", .handler = hello, .flags = BERTH_ROUTE_PUBLIC},
            {.method = "GET", .pattern = "/fail", .handler = fail, .flags = BERTH_ROUTE_PUBLIC},
        };
        static const berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "\(name)", .version = "1.0.0",
            .routes = routes, .route_count = 2,
        };
        const berth_plugin *berth_plugin_entry(void) { return &plugin; }
        """
    }

    func testPluginsBuiltAgainstEveryFrozenHeaderLoadAndServe() throws {
        let headers = try FileManager.default.contentsOfDirectory(atPath: Self.frozenDirectory)
            .filter { $0.hasPrefix("berth-") && $0.hasSuffix(".h") }.sorted()
        let abis = headers.map { String($0.dropFirst("berth-".count).dropLast(2)) }
        XCTAssertTrue(abis.contains("1.0") && abis.contains("1.1"), "frozen headers: \(headers)")

        let scratch = sandbox.root + "/frozen"
        for abi in abis {
            let include = scratch + "/" + abi
            try FileManager.default.createDirectory(atPath: include, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.frozenDirectory + "/berth-\(abi).h", toPath: include + "/berth.h")
            let name = "abi" + abi.replacingOccurrences(of: ".", with: "_")
            let sourcePath = include + "/\(name).c"
            try Self.source(name: name).write(toFile: sourcePath, atomically: false, encoding: .utf8)
            // Only the frozen header's directory is on the include path (not
            // SDK/C/include), so <berth.h> is the old one, never today's.
            try PluginBuilder.compile(sourcePath, into: sandbox.plugins + "/lib\(name).so",
                                      flags: ["-shared", "-fPIC", "-I", include], program: true)
        }
        try startHost()

        let report = try status()
        for abi in abis {
            let name = "abi" + abi.replacingOccurrences(of: ".", with: "_")
            let entry = try plugin(name, in: report)
            XCTAssertEqual(entry["state"] as? String, "running", "\(entry)")
            XCTAssertEqual(entry["abi"] as? String, abi, "status reports the ABI the plugin was built with")
            let connection = try connect(name)
            let hello = try connection.call("GET", "/hello/bob")
            XCTAssertEqual(hello.status, 200, hello.line)
            XCTAssertEqual(hello.dataObject?["abi"] as? String, abi, hello.line)
            XCTAssertEqual(jsonInt(hello.dataObject?["name_len"]), 3, hello.line)
            XCTAssertEqual(hello.dataObject?["host_size_is_ours"] as? Bool, true,
                           "a plugin built against ABI \(abi) is offered only the host functions its header has: \(hello.line)")
            let fail = try connection.call("GET", "/fail")
            XCTAssertEqual(fail.status, 409, fail.line)
            XCTAssertTrue(fail.line.contains(#""code":"conflict""#), fail.line)
        }
    }
}
