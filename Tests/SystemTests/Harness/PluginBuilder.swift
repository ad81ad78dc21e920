import Foundation

/// Compiles throw-away C plugins the way berth.h tells plugin authors to:
/// `cc -shared -fPIC -I SDK/C/include`. Nothing but libc and the header, so
/// each one tests the ABI contract, not the Swift SDK.
enum PluginBuilder {
    /// Tests/SystemTests/Harness/PluginBuilder.swift -> the package root.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var includeDirectory: String { repositoryRoot + "/SDK/C/include" }

    /// Compiles `source` into `<directory>/<fileName>`; returns the path.
    @discardableResult
    static func build(_ source: String, fileName: String, into directory: String, flags: [String] = []) throws -> String {
        let sourcePath = directory + "/" + fileName + ".c"
        let output = directory + "/" + fileName
        try source.write(toFile: sourcePath, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: sourcePath) }
        try compile(sourcePath, into: output, flags: flags)
        return output
    }

    /// The one place tests run cc: a plugin (`-shared -fPIC`, berth.h on
    /// the include path) unless `program` is set, warnings as errors.
    static func compile(_ sourcePath: String, into output: String, flags: [String] = [], program: Bool = false) throws {
        let kind = program ? [] : ["-shared", "-fPIC", "-I", includeDirectory]
        let result = try Command.run("/usr/bin/env", ["cc"] + kind + ["-Wall", "-Werror"] + flags + [sourcePath, "-o", output],
                                     timeout: 60)
        guard result.status == 0 else {
            throw HarnessError("cc failed for \((output as NSString).lastPathComponent) (status \(result.status)):\n\(result.stderr)")
        }
    }

    /// Builds several plugins at once (each cc is a separate process, so
    /// they overlap on a two-core machine).
    static func buildAll(_ plugins: [(fileName: String, source: String)], into directory: String) throws {
        let errors = NSLock()
        var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: plugins.count) { index in
            do {
                try build(plugins[index].source, fileName: plugins[index].fileName, into: directory)
            } catch {
                errors.lock()
                failures.append("\(error)")
                errors.unlock()
            }
        }
        if !failures.isEmpty { throw HarnessError(failures.joined(separator: "\n")) }
    }
}

/// C sources of the plugins the tests compile. Each is a complete plugin
/// file; the shared prelude keeps them short.
enum TestPlugins {
    static let prelude = """
    #include <berth.h>
    #include <stdlib.h>
    #include <string.h>
    #include <unistd.h>

    __attribute__((unused)) static void answer(const berth_request *req, const char *json) {
        req->host->respond(req, 200, json, strlen(json));
    }

    """

    /// A normal plugin: `GET /ping` (public) answers `pong`.
    static func simple(name: String, version: String = "1.0.0", pong: String = "{\\\"pong\\\":true}") -> String {
        prelude + """
        static void ping(const berth_request *req, void *u) { (void)u; answer(req, "\(pong)"); }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
        };
        static const berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "\(name)", .version = "\(version)",
            .routes = routes, .route_count = 1,
        };
        const berth_plugin *berth_plugin_entry(void) { return &plugin; }
        """
    }

    /// A descriptor whose header is written out by hand, to lie about the
    /// magic or the ABI major version.
    static func customHeader(name: String, magic: String, abiMajor: Int) -> String {
        prelude + """
        static void ping(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
        };
        static const berth_plugin plugin = {
            .magic = \(magic), .abi_major = \(abiMajor), .abi_minor = 0, .size = sizeof(berth_plugin),
            .name = "\(name)", .version = "1.0.0", .routes = routes, .route_count = 1,
        };
        const berth_plugin *berth_plugin_entry(void) { return &plugin; }
        """
    }

    /// A shared library that forgot to export the entry symbol.
    static let noEntrySymbol = prelude + """
    int some_other_function(void) { return 42; }
    """

    /// Refuses to start, saying why through host->log first.
    static func failingInit(name: String, reason: String) -> String {
        prelude + """
        static int setup(const berth_host_api *host, const char *config) {
            (void)config;
            host->log(BERTH_LOG_ERROR, "\(reason)");
            return 1;
        }
        static void ping(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
        };
        static const berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "\(name)", .version = "1.0.0",
            .routes = routes, .route_count = 1, .init = setup,
        };
        const berth_plugin *berth_plugin_entry(void) { return &plugin; }
        """
    }

    /// `GET /slow` logs that it started (the test's signal that the request
    /// is in flight), sleeps 300 ms, then answers. `GET /hang` logs, then
    /// blocks for 20 s: a worker that cannot notice anything by itself.
    static let slow = prelude + """
    static void slow(const berth_request *req, void *u) {
        (void)u;
        req->host->log(BERTH_LOG_INFO, "slow request started");
        usleep(300000);
        answer(req, "{\\"slow\\":true}");
    }
    static void hang(const berth_request *req, void *u) {
        (void)u;
        req->host->log(BERTH_LOG_INFO, "hang started");
        sleep(20);
        answer(req, "{}");
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/slow", .handler = slow, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/hang", .handler = hang, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "slow", .version = "1.0.0", .routes = routes, .route_count = 2,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    /// `GET /boom` aborts the worker; `GET /ok` answers.
    static let crashy = prelude + """
    static void boom(const berth_request *req, void *u) { (void)req; (void)u; abort(); }
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{\\"ok\\":true}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/boom", .handler = boom, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "crashy", .version = "1.0.0", .routes = routes, .route_count = 2,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """
}
