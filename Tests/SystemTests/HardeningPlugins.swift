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

    /// Handlers that break the answering rules: one never answers, one
    /// answers with a status outside 100-599, one answers twice, one answers
    /// with its own error.
    static let misbehaving = prelude + #"""
    static void silent(const berth_request *req, void *u) { (void)req; (void)u; }
    static void status(const berth_request *req, void *u) { (void)u; req->host->respond(req, 999, "{}", 2); }
    static void twice(const berth_request *req, void *u) {
        (void)u;
        answer(req, "{\"n\":1}");
        answer(req, "{\"n\":2}");
    }
    static void teapot(const berth_request *req, void *u) {
        (void)u;
        req->host->respond_error(req, 418, "teapot", "short and stout; ask the kettle");
    }
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{\"ok\":true}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/silent", .handler = silent, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/status", .handler = status, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/twice", .handler = twice, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/teapot", .handler = teapot, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "misbehaving", .version = "1.0.0", .routes = routes, .route_count = 5,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#

    /// Handlers that take their time. `GET /hang` (its own limit: 1 s, in
    /// the ABI 1.1 route policy) logs and sleeps a minute; `/slow` sleeps
    /// 1.5 s, `/nap` and `/snooze` 0.6 s; `/ok` answers at once.
    static let sleepy = prelude + #"""
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{\"ok\":true}"); }
    static void hang(const berth_request *req, void *u) {
        (void)u;
        req->host->log(BERTH_LOG_INFO, "hang started");
        sleep(60);
        answer(req, "{\"woke\":true}");
    }
    static void slow(const berth_request *req, void *u) { (void)u; usleep(1500000); answer(req, "{\"slow\":true}"); }
    static void nap(const berth_request *req, void *u) { (void)u; usleep(600000); answer(req, "{\"nap\":true}"); }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/hang", .handler = hang, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/slow", .handler = slow, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/nap", .handler = nap, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/snooze", .handler = nap, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_route_policy policies[] = {{0}, {.timeout_ms = 1000}, {0}, {0}, {0}};
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "sleepy", .version = "1.0.0", .routes = routes, .route_count = 5,
        BERTH_ROUTE_POLICIES(policies),
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#

    /// Breaks resource limits on request: `/grow` fills 128 MiB and holds
    /// it, `/spin` loops forever, `/leak` opens /dev/null until it fails and
    /// says how many it got and why it stopped; `/ok` answers.
    static let greedy = prelude + #"""
    #include <errno.h>
    #include <fcntl.h>
    #include <stdio.h>
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{\"ok\":true}"); }
    static void grow(const berth_request *req, void *u) {
        (void)u;
        size_t size = 128u << 20;
        char *block = malloc(size);
        if (block) memset(block, 1, size);
        sleep(20);
        answer(req, block ? "{\"grew\":true}" : "{\"grew\":false}");
    }
    static void spin(const berth_request *req, void *u) {
        (void)u;
        volatile unsigned long n = 0;
        for (;;) n++;
        answer(req, "{}");
    }
    static void leak(const berth_request *req, void *u) {
        (void)u;
        int opened = 0;
        while (open("/dev/null", O_RDONLY) >= 0) opened++;
        char json[64];
        snprintf(json, sizeof json, "{\"opened\":%d,\"errno\":%d}", opened, errno);
        answer(req, json);
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/ok", .handler = ok, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/grow", .handler = grow, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/spin", .handler = spin, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/leak", .handler = leak, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "greedy", .version = "1.0.0", .routes = routes, .route_count = 4,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#
}
