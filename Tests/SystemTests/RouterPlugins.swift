/// C plugins for RouterTests: many routes of one shape (the case a router
/// that compares each new route with the others pays most for), and
/// duplicate routes.
enum RouterPlugins {
    /// A prefix every route of `manyRoutes` shares: four segments.
    static let shopItems = "/api/v1/shop/items"

    /// The pattern of route `i` of `manyRoutes`: every route has the same
    /// method and shape.
    static func manyRoutesPattern(_ i: Int, prefix: String = shopItems) -> String { "\(prefix)/\(i)/{id}" }

    /// `count` routes `GET <prefix>/<i>/{id}`, made when the entry function
    /// first runs; route i answers {"route":i,"id":"<id>"}.
    static func manyRoutes(_ count: Int, prefix: String = shopItems, name: String = "many") -> String {
        TestPlugins.prelude + """
        #include <stdint.h>
        #include <stdio.h>
        #define COUNT \(count)
        static berth_route routes[COUNT];
        static char patterns[COUNT][48];
        static berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "\(name)", .version = "1.0.0", .routes = routes, .route_count = COUNT,
        };
        static void numbered(const berth_request *req, void *u) {
            char json[160];
            berth_str id = req->params[0].value;
            snprintf(json, sizeof json, "{\\"route\\":%d,\\"id\\":\\"%.*s\\"}", (int)(intptr_t)u,
                     (int)(id.len > 64 ? 64 : id.len), id.ptr);
            answer(req, json);
        }
        const berth_plugin *berth_plugin_entry(void) {
            static int made;
            for (; made < COUNT; made++) {
                snprintf(patterns[made], sizeof patterns[made], "\(prefix)/%d/{id}", made);
                routes[made] = (berth_route){.method = "GET", .pattern = patterns[made], .handler = numbered,
                                             .user_data = (void *)(intptr_t)made, .flags = BERTH_ROUTE_PUBLIC};
            }
            return &plugin;
        }
        """
    }

    /// A plugin whose route table has `second` after `first`, beside a good
    /// route; its init writes `marker` so a test can tell it never ran.
    static func duplicateRoutes(name: String, first: String, second: String, marker: String) -> String {
        TestPlugins.prelude + """
        #include <fcntl.h>
        static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
        static int setup(const berth_host_api *host, const char *config) {
            (void)host; (void)config;
            int fd = open("\(marker)", O_WRONLY | O_CREAT, 0600);
            if (fd >= 0) close(fd);
            return 0;
        }
        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
            {.method = "GET", .pattern = "\(first)", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
            {.method = "POST", .pattern = "\(first)", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
            {.method = "GET", .pattern = "\(second)", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
        };
        static const berth_plugin plugin = {
            BERTH_PLUGIN_HEADER, .name = "\(name)", .version = "1.0.0", .routes = routes, .route_count = 4, .init = setup,
        };
        const berth_plugin *berth_plugin_entry(void) { return &plugin; }
        """
    }
}
