/// C sources of the plugins the bounds tests (what a client can make a
/// worker hold, and write into the log) compile.
extension TestPlugins {
    /// `GET /large/{mib}` (public) answers a JSON string of that many MiB,
    /// which it builds once and keeps, as a plugin that serves a cached
    /// document would: the worker holds the plugin's copy for good, and
    /// what it holds beyond that is Berth's.
    static let large = prelude + #"""
    static char *cached;
    static size_t cachedSize;
    static void large(const berth_request *req, void *u) {
        (void)u;
        char digits[16] = {0};
        size_t n = req->params[0].value.len < 15 ? req->params[0].value.len : 15;
        memcpy(digits, req->params[0].value.ptr, n);
        size_t size = (size_t)atoi(digits) << 20;
        if (size != cachedSize) {
            free(cached);
            cached = malloc(size);
            if (!cached) { cachedSize = 0; req->host->respond_error(req, 500, "no_memory", "malloc failed"); return; }
            cachedSize = size;
            memset(cached, 'a', size);
            cached[0] = '"';
            cached[size - 1] = '"';
        }
        req->host->respond(req, 200, cached, size);
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/large/{mib}", .handler = large, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "large", .version = "1.0.0", .routes = routes, .route_count = 1,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#
}
