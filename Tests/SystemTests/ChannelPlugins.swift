/// The C plugins of E2EChannelTests.
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
    /// its extensions), up to 13 segments, and methods take turns: so no
    /// two routes have the same method and shape (which the loader would
    /// refuse as duplicates).
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
