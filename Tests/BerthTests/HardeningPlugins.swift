/// C sources of the plugins the hardening tests (a bad plugin cannot hurt
/// the rest) compile: each misbehaves in one way on one route.
extension TestPlugins {
    /// Answers with bodies that are not JSON, and one pretty-printed body
    /// that is JSON but spans lines.
    static let badBody = prelude + #"""
    static void truncated(const berth_request *req, void *u) { (void)u; answer(req, "{\"a\":"); }
    static void text(const berth_request *req, void *u) { (void)u; answer(req, "hello"); }
    static void two(const berth_request *req, void *u) { (void)u; answer(req, "{} {}"); }
    static void tab(const berth_request *req, void *u) { (void)u; answer(req, "\"a\tb\""); }
    static void pretty(const berth_request *req, void *u) { (void)u; answer(req, "{\n  \"a\": [1,\r\n 2]\n}\n"); }
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{\"ok\":true}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/truncated", .handler = truncated, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/text", .handler = text, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/two", .handler = two, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/tab", .handler = tab, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/pretty", .handler = pretty, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "badbody", .version = "1.0.0", .routes = routes, .route_count = 6,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#
}
