/* The small C plugin of the reload, start-up and memory benchmarks: it
 * answers its version, so a client can tell which generation served it.
 *
 *   cc -shared -fPIC -I SDK/C/include -DNAME=p07 -DVERSION=2 version.c -o libp07.so
 *
 *   GET /version  (public)  {"v":VERSION}
 */
#include <berth.h>

#ifndef NAME
#define NAME version
#endif
#ifndef VERSION
#define VERSION 1
#endif
#define TEXT(x) #x
#define STRING(x) TEXT(x)

static void version(const berth_request *req, void *user_data) {
    (void)user_data;
    static const char body[] = "{\"v\":" STRING(VERSION) "}";
    req->host->respond(req, 200, body, sizeof body - 1);
}

static const berth_route routes[] = {
    {.method = "GET", .pattern = "/version", .handler = version, .flags = BERTH_ROUTE_PUBLIC},
};

static const berth_plugin plugin = {
    BERTH_PLUGIN_HEADER,
    .name = STRING(NAME),
    .version = STRING(VERSION),
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
};

const berth_plugin *berth_plugin_entry(void) { return &plugin; }
