/// C sources of the plugins TryTests, CJSONHelperTests and
/// HeaderStatementTests compile. Like a plugin author's, they use the SDK's
/// headers alone (berth.h, berth_json.h).
enum TryPlugins {
    /// `GET /hello/{name}` answers {"hello":NAME,"length":N}, built with
    /// berth_json.h; `GET /config` answers the config init received;
    /// `GET /secret` needs a token; `GET /refuse` answers an error whose
    /// code and message hold characters JSON must escape. init prints to
    /// stdout, which must never reach `berth try`'s answers.
    static let hello = """
    #include <berth.h>
    #include <berth_json.h>
    #include <stdio.h>
    #include <string.h>

    static char config[256];

    static int setup(const berth_host_api *host, const char *config_json) {
        snprintf(config, sizeof config, "%s", config_json);
        printf("printed by the plugin to stdout\\n");
        fflush(stdout);
        host->log(BERTH_LOG_INFO, "hello plugin ready");
        return 0;
    }

    static void hello(const berth_request *req, void *user_data) {
        (void)user_data;
        char buf[512];
        berth_json j;
        berth_json_init(&j, buf, sizeof buf);
        berth_json_raw(&j, "{\\"hello\\":");
        berth_json_string(&j, req->params[0].value.ptr, req->params[0].value.len);
        berth_json_raw(&j, ",\\"length\\":");
        berth_json_int(&j, (long long)req->params[0].value.len);
        berth_json_raw(&j, "}");
        if (berth_json_ok(&j)) req->host->respond(req, 200, j.data, j.length);
        else req->host->respond_error(req, 500, "too_long", "the name did not fit the answer");
    }

    static void settings(const berth_request *req, void *user_data) {
        (void)user_data;
        req->host->respond(req, 200, config, strlen(config));
    }

    static void secret(const berth_request *req, void *user_data) {
        (void)user_data;
        req->host->respond(req, 200, "{\\"secret\\":true}", 15);
    }

    static void refuse(const berth_request *req, void *user_data) {
        (void)user_data;
        req->host->respond_error(req, 409, "c\\"ode", "a \\"quoted\\" \\\\ word\\nand a \\\\n");
    }

    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/hello/{name}", .handler = hello, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/config", .handler = settings, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/secret", .handler = secret},
        {.method = "GET", .pattern = "/refuse", .handler = refuse, .flags = BERTH_ROUTE_PUBLIC},
    };

    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER,
        .name = "hello",
        .version = "1.0.0",
        .routes = routes,
        .route_count = sizeof routes / sizeof routes[0],
        .init = setup,
    };

    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    /// `GET /names` answers what `rand` returns when the plugin itself
    /// defines an exported `rand`, and what a `static` function of its own
    /// returns: berth.h's advice to export nothing but the entry point.
    static let exportedNames = """
    #include <berth.h>
    #include <stdio.h>

    int rand(void) { return 42; }
    static int own_rand(void) { return 42; }

    static void names(const berth_request *req, void *user_data) {
        (void)user_data;
        char buf[128];
        int n = snprintf(buf, sizeof buf, "{\\"exported\\":%d,\\"static\\":%d}", rand(), own_rand());
        req->host->respond(req, 200, buf, (size_t)n);
    }

    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/names", .handler = names, .flags = BERTH_ROUTE_PUBLIC},
    };

    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "names", .version = "1.0.0", .routes = routes, .route_count = 1,
    };

    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    /// `GET /count` answers how many times it was called in this process:
    /// a static counter, which berth.h says starts empty in every process.
    static let counter = """
    #include <berth.h>
    #include <stdio.h>

    static int calls;

    static void count(const berth_request *req, void *user_data) {
        (void)user_data;
        char buf[64];
        int n = snprintf(buf, sizeof buf, "{\\"calls\\":%d}", ++calls);
        req->host->respond(req, 200, buf, (size_t)n);
    }

    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/count", .handler = count, .flags = BERTH_ROUTE_PUBLIC},
    };

    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "counter", .version = "1.0.0", .routes = routes, .route_count = 1,
    };

    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    /// init logs "init started" and then never returns: a plugin whose
    /// init is slow, for a signal that comes before the host is ready.
    static let blockingInit = """
    #include <berth.h>
    #include <unistd.h>

    static int setup(const berth_host_api *host, const char *config_json) {
        (void)config_json;
        host->log(BERTH_LOG_INFO, "init started");
        for (;;) pause();
        return 0;
    }

    static void ping(const berth_request *req, void *user_data) {
        (void)user_data;
        req->host->respond(req, 200, "{}", 2);
    }

    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
    };

    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "blocking", .version = "1.0.0", .routes = routes, .route_count = 1, .init = setup,
    };

    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """
}
