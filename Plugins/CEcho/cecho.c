/* cecho: a Berth plugin in plain C, built from nothing but berth.h.
 *
 *   POST /echo  (needs auth_token)  answers with the request's "data"
 *   GET  /ping  (public)            answers {"pong":true}
 */
#include <berth.h>

static const berth_host_api *host;

static int cecho_init(const berth_host_api *api, const char *config_json) {
    (void)config_json;
    host = api;
    host->log(BERTH_LOG_INFO, "cecho ready");
    return 0;
}

static void echo(const berth_request *req, void *user_data) {
    (void)user_data;
    req->host->respond(req, 200, req->body.ptr, req->body.len);
}

static void ping(const berth_request *req, void *user_data) {
    (void)user_data;
    static const char pong[] = "{\"pong\":true}";
    req->host->respond(req, 200, pong, sizeof pong - 1);
}

static const berth_route routes[] = {
    {.method = "POST", .pattern = "/echo", .handler = echo},
    {.method = "GET", .pattern = "/ping", .handler = ping, .flags = BERTH_ROUTE_PUBLIC},
};

static const berth_plugin plugin = {
    BERTH_PLUGIN_HEADER,
    .name = "cecho",
    .version = "1.0.0",
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .init = cecho_init,
};

const berth_plugin *berth_plugin_entry(void) { return &plugin; }
