/*
 * berth.h — the C ABI between the Berth host and a plugin.
 *
 * This header is the whole contract. A plugin built with nothing but a C
 * compiler and this file works:
 *
 *     cc -shared -fPIC -I SDK/C/include my_plugin.c -o libmy_plugin.so
 *
 * Model (after SQLite's loadable extensions, sqlite3ext.h):
 *   - The plugin exports ONE symbol, `berth_plugin_entry`, returning a
 *     pointer to a constant `berth_plugin` descriptor.
 *   - The plugin never links against host symbols. Everything it may call in
 *     the host is reached through the `berth_host_api` function table, which
 *     the host passes to `init` and also places in every request.
 *   - The host checks `magic`, `abi_major` and `size` before it calls or reads
 *     anything else. A plugin built for another major ABI version is refused
 *     at load with a message naming both versions.
 *
 * Compatibility rule: structs only ever grow by appending fields. Every
 * struct that crosses the boundary starts with (or carries) its own size, so
 * a newer host can tell which fields an older plugin knows about, and a newer
 * plugin can tell which host functions an older host provides
 * (see BERTH_HOST_HAS).
 *
 * Threading: a worker process calls every plugin function (init, handlers,
 * shutdown) from a single thread, one call at a time. A handler must answer
 * (berth_host_api.respond or respond_error) before it returns; the request
 * and everything it points to are valid only until then. A handler that
 * blocks stalls its worker process (other plugins are unaffected, they run
 * in other processes). A plugin may start its own threads, but must not call
 * host functions from them.
 *
 * Memory: the host owns every pointer it hands out. `respond` copies the
 * body before it returns, so the plugin frees (or reuses) its buffer with its
 * own allocator afterwards. Nothing allocated on one side is freed on the
 * other.
 */
#ifndef BERTH_H
#define BERTH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "BRTH" read as a little-endian uint32. */
#define BERTH_PLUGIN_MAGIC 0x48545242u
/* A host accepts a plugin with the same major version and any minor one. */
#define BERTH_ABI_MAJOR 1
#define BERTH_ABI_MINOR 0

/* The symbol the host looks up with dlsym. */
#define BERTH_ENTRY_SYMBOL "berth_plugin_entry"

/* Bytes that are NOT NUL-terminated: always use `len`. */
typedef struct berth_str {
    const char *ptr;
    size_t len;
} berth_str;

/* One `{param}` segment of a route pattern and its value in this request
 * (percent-decoded). */
typedef struct berth_param {
    berth_str name;
    berth_str value;
} berth_param;

struct berth_host_api;

/* A request as a handler sees it. All fields are owned by the host and
 * valid until the handler returns. */
typedef struct berth_request {
    /* sizeof(berth_request) as the host filled it. */
    uint32_t size;
    /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" or "OPTIONS". */
    berth_str method;
    /* The path without the query, exactly as sent (e.g. "/hello/bob"). */
    berth_str path;
    /* What followed '?' in the path, undecoded; empty when there was none. */
    berth_str query;
    /* Values of the route's `{param}` segments, in pattern order. */
    const berth_param *params;
    size_t param_count;
    /* The raw JSON text of the request's "data" member; empty (len 0) when
     * the request had none. It is valid JSON: the host checked it. */
    berth_str body;
    /* The raw JSON text of the request's "id" member; empty when absent. */
    berth_str request_id;
    /* The raw JSON text of the request's "headers" object; empty when absent. */
    berth_str headers;
    /* The host's function table (the same pointer `init` received). */
    const struct berth_host_api *host;
    /* Host bookkeeping for this request: pass the request back to `respond`,
     * never read or write this. */
    void *host_private;
} berth_request;

/* A route handler. `user_data` is the route's own `user_data`, handed back
 * unchanged (the Swift SDK keeps a closure behind it). The handler answers
 * through req->host->respond or req->host->respond_error before returning;
 * one that returns without answering makes the host reply 500
 * "no_response". */
typedef void (*berth_handler_fn)(const berth_request *req, void *user_data);

/* Route flags. */
#define BERTH_ROUTE_PUBLIC 0x1u /* callable without auth_token */

typedef struct berth_route {
    /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" or "OPTIONS". */
    const char *method;
    /* "/hello/{name}": literal segments and whole-segment {param}s. A
     * literal segment wins over a {param} at the same position. */
    const char *pattern;
    berth_handler_fn handler;
    void *user_data;
    uint32_t flags;
} berth_route;

/* Log levels for berth_host_api.log. */
#define BERTH_LOG_DEBUG 0
#define BERTH_LOG_INFO 1
#define BERTH_LOG_WARN 2
#define BERTH_LOG_ERROR 3

/* What the host offers a plugin. Grows by appending; check `size` (or use
 * BERTH_HOST_HAS) before calling a function added after ABI 1.0. */
typedef struct berth_host_api {
    uint32_t magic;     /* BERTH_PLUGIN_MAGIC */
    uint16_t abi_major; /* the host's BERTH_ABI_MAJOR */
    uint16_t abi_minor; /* the host's BERTH_ABI_MINOR */
    uint32_t size;      /* sizeof(berth_host_api) in the host */

    /* Answer `req` with an HTTP-like status and a JSON body of `len` bytes
     * (len 0 means null). The host copies the body before returning and
     * places it, unparsed, as the response's "data". Only the first answer
     * to a request counts; later ones are logged and ignored. */
    void (*respond)(const berth_request *req, int status, const char *json, size_t len);

    /* Answer `req` with an error: {"status":S,"error":{"code":C,"message":M}}.
     * `code` is a short snake_case word, `message` a NUL-terminated
     * sentence telling the caller what to do. */
    void (*respond_error)(const berth_request *req, int status, const char *code, const char *message);

    /* Write a line to the host's log, tagged with the plugin's name. */
    void (*log)(int level, const char *message);
} berth_host_api;

/* True when `api` provides the member `field` (it was appended in a minor
 * version the host has). */
#define BERTH_HOST_HAS(api, field) \
    ((api)->size >= offsetof(berth_host_api, field) + sizeof((api)->field))

/* Called once in the worker process after the ABI check, before any request.
 * `config_json` is NUL-terminated JSON text: the "config" member of the
 * plugin's settings file (<file>.json beside <file>.so), "{}" when absent. Return 0 on success; anything else refuses the load,
 * and the host logs the message the plugin wrote with host->log. */
typedef int (*berth_init_fn)(const berth_host_api *host, const char *config_json);

/* Called once before the worker exits normally. */
typedef void (*berth_shutdown_fn)(void);

typedef struct berth_plugin {
    uint32_t magic;     /* BERTH_PLUGIN_MAGIC */
    uint16_t abi_major; /* BERTH_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor; /* BERTH_ABI_MINOR the plugin was built with */
    uint32_t size;      /* sizeof(berth_plugin) as the plugin compiled it */
    /* Names the socket <run-dir>/<name>.sock: [a-z0-9_-]{1,64}, unique. */
    const char *name;
    /* Free-form, shown in status (e.g. "1.2.0"). */
    const char *version;
    const berth_route *routes;
    size_t route_count;
    berth_init_fn init;         /* optional: NULL */
    berth_shutdown_fn shutdown; /* optional: NULL */
} berth_plugin;

/* Fill the header fields of a descriptor. */
#define BERTH_PLUGIN_HEADER \
    .magic = BERTH_PLUGIN_MAGIC, .abi_major = BERTH_ABI_MAJOR, \
    .abi_minor = BERTH_ABI_MINOR, .size = sizeof(berth_plugin)

/* Exported by every plugin. Returns a pointer to a descriptor that stays
 * valid for the life of the process. */
const berth_plugin *berth_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_H */
