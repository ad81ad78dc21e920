/// C sources of the plugins the lifecycle tests compile (init time limit,
/// drain deadline, retrying failed plugins, duplicate names, exit 72).
enum LifecyclePlugins {
    /// A plugin named `name` with `GET /ping` (public), whose init logs
    /// "init ran for <name> <version>" (so a test sees whose init ran) and
    /// then does `initBody` (C statements; return 0 to succeed). `entryDelay`
    /// microseconds spent in the entry function make it report its name late.
    static func plugin(name: String, version: String = "1.0.0", initBody: String = "return 0;", entryBody: String = "") -> String {
        TestPlugins.prelude + """
        #include <stdio.h>
        static int setup(const berth_host_api *host, const char *config) {
            (void)config;
            host->log(BERTH_LOG_INFO, "init ran for \(name) \(version)");
            \(initBody)
        }
        static void ping(const berth_request *req, void *u) { (void)u; answer(req, "{\\"version\\":\\"\(version)\\"}"); }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
        };
        static const berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "\(name)", .version = "\(version)",
            .routes = routes, .route_count = 1, .init = setup,
        };
        const berth_plugin *berth_plugin_entry(void) {
            \(entryBody)
            return &plugin;
        }
        """
    }

    /// An init that never returns (a dependency that never answers).
    static func stuckInit(name: String) -> String {
        plugin(name: name, initBody: "for (;;) sleep(1000);\nreturn 0;")
    }

    /// An init that fails while the file named by $DEPENDENCY does not exist
    /// (a dependency that is down for a while).
    static func needsDependency(name: String) -> String {
        plugin(name: name, initBody: """
        const char *dependency = getenv("DEPENDENCY");
        if (dependency == NULL || access(dependency, F_OK) != 0) {
            host->log(BERTH_LOG_ERROR, "dependency is down");
            return 1;
        }
        return 0;
        """)
    }

    /// `GET /hang` logs "hang started", then blocks for an hour: a request
    /// that only a kill ends.
    static func hanging(version: String) -> String {
        TestPlugins.prelude + """
        static void hang(const berth_request *req, void *u) {
            (void)u;
            req->host->log(BERTH_LOG_INFO, "hang started");
            sleep(3600);
            answer(req, "{}");
        }
        static void ping(const berth_request *req, void *u) { (void)u; answer(req, "{\\"version\\":\\"\(version)\\"}"); }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/hang", .handler = hang, .flags = BERTH_ROUTE_PUBLIC},
            {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
        };
        static const berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "hang", .version = "\(version)", .routes = routes, .route_count = 2,
        };
        const berth_plugin *berth_plugin_entry(void) { return &plugin; }
        """
    }
}
