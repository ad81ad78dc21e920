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
 *     pointer to a constant `berth_plugin` descriptor. Other exported
 *     symbols do not stop the load, but they are not the plugin's own: the
 *     worker looks a global name up in its executable and the libraries
 *     loaded before the plugin (libc among them) and only then in the
 *     plugin, so a non-static function or variable named like one of
 *     theirs (rand, send, index...) is theirs, even when the plugin's own
 *     code calls it. Make everything else `static`, or build with
 *     -fvisibility=hidden and mark the entry point
 *     __attribute__((visibility("default"))).
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
 * shutdown, `after` callbacks) from a single thread, its loop thread, one
 * call at a time. A handler answers (berth_host_api.respond or
 * respond_error) before it returns, or, from ABI 1.2, takes the answer for
 * later with `defer` and gives it afterwards (see "Answering later" below);
 * either way the request and everything it points to are valid only until
 * the handler returns. A handler that
 * blocks stalls its worker process (other plugins are unaffected, they run
 * in other processes) until its time limit: then the caller gets 504 and
 * the host replaces the worker (see berth_route_policy.timeout_ms). A plugin
 * may start its own threads, but must not call host functions from them.
 *
 * Memory: the host owns every pointer it hands out. `respond` copies the
 * body before it returns, so the plugin frees (or reuses) its buffer with its
 * own allocator afterwards. Nothing allocated on one side is freed on the
 * other.
 *
 * State: every worker is a fresh process that loads the library anew and
 * calls `init` again: each reload (a new generation), each `berth restart`,
 * each restart after a crash, and each of a plugin's instances ("instances"
 * setting, --instances). Globals and statics start at the values the
 * library was built with; nothing is shared between instances or kept from
 * one generation to the next, and the old and new generation run side by
 * side for a while. Keep what must outlive a process outside it (a file, a
 * database).
 *
 * Building answers: berth_json.h (beside this file) has header-only helpers
 * that escape untrusted text (a path parameter, say) into a JSON string.
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
#define BERTH_ABI_MINOR 2

/* The symbol the host looks up with dlsym. */
#define BERTH_ENTRY_SYMBOL "berth_plugin_entry"

/* Bytes that are NOT NUL-terminated: always use `len`. */
typedef struct berth_str {
    const char *ptr;
    size_t len;
} berth_str;

/* One `{param}` segment of a route pattern and its value in this request.
 * A {param} matches one whole path segment that is not empty ("/hello/"
 * does not match "/hello/{name}": 404), so `value.len` is at least 1. The
 * value is percent-decoded (a malformed escape such as "%zz" stays as it
 * is), so it may hold '/' ("%2F"), NUL ("%00") and bytes that are not UTF-8
 * ("%FF"): use it as bytes with a length, never as a C string, and escape it
 * before it goes into an answer (berth_json_string does both). */
typedef struct berth_param {
    berth_str name;
    berth_str value;
} berth_param;

struct berth_host_api;

/* An answer taken for later (ABI 1.2, berth_host_api.defer): opaque, owned
 * by the host, freed by the one answer given through it. */
typedef struct berth_deferred berth_deferred;

/* A request as a handler sees it. All fields are owned by the host and
 * valid until the handler returns. */
typedef struct berth_request {
    /* sizeof(berth_request) as the host filled it. */
    uint32_t size;
    /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" or "OPTIONS". */
    berth_str method;
    /* The path without the query (e.g. "/hello/bob"): the request's "path"
     * string as JSON decodes it, so "\/hello\/b\u006fb" arrives as
     * "/hello/bob" (JSON escaping is transport, not meaning). A '?' ends
     * it whether it was sent raw or as "\u003f". Always valid UTF-8: the
     * host refuses requests that are not. */
    berth_str path;
    /* What followed '?' in the decoded path, not percent-decoded; empty
     * when there was none. */
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

    /* Added in ABI 1.1 (check with BERTH_REQUEST_HAS): the connected
     * client's credentials as the kernel reported them (SO_PEERCRED) when
     * the connection was accepted; a client cannot forge them. uid and gid
     * are (uint32_t)-1 when the kernel gave none. */
    int32_t peer_pid;
    uint32_t peer_uid;
    uint32_t peer_gid;

    /* Added in ABI 1.2 (check with BERTH_REQUEST_HAS): who called, by the
     * name of the token the request carried, never the token itself:
     * "admin" (the host's admin token), "token:NAME" (a tokens-file line
     * with name=NAME), "token" (a tokens-file line without a name),
     * "plugin:NAME" (another plugin calling through berth_host_api.call,
     * with the identity the host issued it), or empty (a public route
     * called without a token). See docs/security.md#who-called. */
    berth_str caller;
    /* The request's W3C trace context as this request continues it: a
     * "traceparent" value (00-<trace id>-<span id>-<flags>) whose span id
     * is this request's own; empty when tracing is off and the request
     * carried none. Calls made for this request carry it on. */
    berth_str traceparent;
    /* Milliseconds left of this request's time limit when the handler was
     * called: the route's limit or the caller's deadline, whichever ends
     * first; 0 when it has none. */
    uint32_t remaining_ms;
} berth_request;

/* True when the host filled `field` of `req` (added in a later minor ABI). */
#define BERTH_REQUEST_HAS(req, field) \
    ((req)->size >= offsetof(berth_request, field) + sizeof((req)->field))

/* A route handler. `user_data` is the route's own `user_data`, handed back
 * unchanged (the Swift SDK keeps a closure behind it). The handler answers
 * through req->host->respond or req->host->respond_error before returning,
 * or takes the answer for later with req->host->defer (ABI 1.2); one that
 * returns having done neither makes the host reply 500 "no_response". */
typedef void (*berth_handler_fn)(const berth_request *req, void *user_data);

/* Route flags. */
#define BERTH_ROUTE_PUBLIC 0x1u /* callable without auth_token */
/* ABI 1.2: a call from another plugin to this route may be retried after a
 * failure even when its method is not idempotent (POST, PATCH): the
 * handler is safe to run twice. GET, HEAD, OPTIONS, PUT and DELETE are
 * retryable without it. A host before 1.2 ignores the flag. */
#define BERTH_ROUTE_RETRYABLE 0x2u

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

/* Optional per-route policy (ABI 1.1), in a table parallel to `routes`
 * (entry i belongs to route i). A separate table rather than new
 * berth_route fields, so a plugin built against 1.1 still loads in a 1.0
 * host (which ignores it) and a 1.0 plugin's route table keeps its stride. */
typedef struct berth_route_policy {
    /* The scope a caller's token must carry (see "Scoped tokens" in
     * docs/security.md), e.g. "write": 1 to 64 of [A-Za-z0-9_.:-], at most 63
     * different scopes per plugin. NULL or "" means any valid token. A
     * token without the scope gets 403 "forbidden". Ignored for
     * BERTH_ROUTE_PUBLIC routes. */
    const char *scope;
    /* Longest time the handler may run, in milliseconds, before the caller
     * gets 504 and the worker is replaced; 0 means the plugin's setting
     * (request_timeout_seconds, default 30 s). A deferred answer (ABI 1.2)
     * has the same limit, counted from the request's arrival: past it the
     * caller gets 504 but the worker goes on. */
    uint32_t timeout_ms;
} berth_route_policy;

/* ABI 1.2: a call to another plugin on this host (berth_host_api.call). */
typedef struct berth_call {
    /* sizeof(berth_call) as the plugin compiled it. */
    uint32_t size;
    /* The service: a plugin's name ("greeter"). NUL-terminated. */
    const char *service;
    /* "GET", "POST", ... as in berth_route. NUL-terminated. */
    const char *method;
    /* The path, with an optional "?query" ("/hello/bob"). */
    berth_str path;
    /* One JSON value sent as the request's "data"; len 0: none. */
    berth_str data;
    /* A JSON object sent as the request's "headers"; len 0: none. A
     * "traceparent" here is replaced by the host's continuation of the
     * trace (see docs/calls.md#tracing). */
    berth_str headers;
    /* The call's deadline in milliseconds from now, across every attempt;
     * 0: what remains of the parent request's time limit, or 30 000 when
     * the call has no parent. Longer than the parent's remaining time is
     * cut to it. */
    uint32_t timeout_ms;
    /* BERTH_CALL_* flags. */
    uint32_t flags;
} berth_call;

/* berth_call.flags: this call may be retried even though its method is
 * not idempotent (the callee's route may also say so: BERTH_ROUTE_RETRYABLE). */
#define BERTH_CALL_RETRYABLE 0x1u
/* berth_call.flags: never retry this call. */
#define BERTH_CALL_NO_RETRY 0x2u

/* How a call ended, handed to its callback. Valid only during the
 * callback: copy what you keep. */
typedef struct berth_call_result {
    /* sizeof(berth_call_result) as the host filled it. */
    uint32_t size;
    /* The callee's status (200, 404, ...) or the host's when the call did
     * not get an answer from the callee: see `error_code`. */
    int32_t status;
    /* The callee's "data" as raw JSON when it answered without an error;
     * empty otherwise. */
    berth_str data;
    /* Empty on success. Otherwise the callee's error code, or one of the
     * host's, which a handler can tell apart:
     *   "service_unknown"  (502) no plugin of that name is loaded here
     *   "unavailable"      (503) the plugin is known but none of its
     *                            workers is serving (failed, restarting)
     *   "circuit_open"     (503) the callee failed repeatedly; calls are
     *                            refused at once until a probe succeeds
     *   "overflow"         (503) too many calls to it in flight already
     *   "timeout"          (504) the deadline passed before an answer
     *   "call_loop"        (508) the hop limit: calls calling calls
     *   "cancelled"        (499) the parent request's client went away
     *   "bad_call"         (400) the call itself is malformed (message says)
     *   "bad_answer"       (502) the callee's answer could not be read */
    berth_str error_code;
    berth_str error_message;
    /* 1 when the host made the answer (the codes above), 0 when the
     * callee did. */
    uint32_t from_host;
    /* How many times the call was sent (1 + retries); 0 when it never
     * left (service_unknown, circuit_open, ...). */
    uint32_t attempts;
    /* The callee's instance that gave the answer (0-based), -1 if none. */
    int32_t instance;
} berth_call_result;

/* Receives a call's result, exactly once, on the worker's loop thread,
 * never before berth_host_api.call returned. */
typedef void (*berth_call_done_fn)(const berth_call_result *result, void *user_data);

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
     * (len 0 means null). The host copies the body before returning, checks
     * that it is one JSON value (if not, the caller gets 502
     * "invalid_response" instead) and places it as the response's "data".
     * Only the first answer to a request counts; later ones are logged and
     * ignored. `status` must be 100-599: any other is not sent, the caller
     * gets 500 "bad_status" naming the route instead, and that counts as the
     * answer. */
    void (*respond)(const berth_request *req, int status, const char *json, size_t len);

    /* Answer `req` with an error: {"status":S,"error":{"code":C,"message":M}}.
     * `code` is a short snake_case word, `message` a NUL-terminated
     * sentence telling the caller what to do. Pass both as plain text: the
     * host escapes both into JSON strings, so a message escaped beforehand
     * arrives escaped twice (a backslash and an n reach the caller as a
     * backslash and an n, not as a line break).
     * NULL is sent as "error" (code) or "" (message). The status rule of
     * `respond` applies. */
    void (*respond_error)(const berth_request *req, int status, const char *code, const char *message);

    /* Write a line to the host's log, tagged with the plugin's name. The
     * host escapes control characters (a newline becomes "\n") and keeps
     * at most 4096 bytes, so a message holding client data cannot forge
     * a line of the host's log. */
    void (*log)(int level, const char *message);

    /* Added in ABI 1.2 (check with BERTH_HOST_HAS; a plugin built against
     * an older header is given a table without them). Answering later:
     *
     * `defer`, called by a handler while it runs (never twice, never after
     * it answered), takes the request's answer for later and returns its
     * handle; NULL when refused (outside a handler, on another thread,
     * already answered or deferred), with a log line saying why. The
     * handler then returns without answering. NOTHING of the request stays
     * valid after the handler returns: not `req`, not its strings, params,
     * body or headers. Copy what the answer will need before returning.
     * The requests pipelined behind it on the same connection wait, so
     * answers still leave in request order; the worker serves its other
     * connections meanwhile.
     *
     * `deferred_respond` and `deferred_respond_error` answer like respond
     * and respond_error (same body check, same status rule) and free the
     * handle: call exactly one of them, exactly once, per handle, on the
     * loop thread (from a handler or an `after` callback). They return 0
     * when the answer was taken. They return non-zero, and log why, when
     * called from another thread (the handle is untouched: answer again
     * from the loop thread), and when the route's time limit passed first:
     * then the caller already got 504 "timeout", the late answer is ignored
     * and the handle is freed all the same. A deferred answer's time limit
     * is the route's (berth_route_policy.timeout_ms), counted from the
     * request's arrival; it does not stop the worker. An answer may be
     * given before the handler returns; it is sent once it has. The client
     * may have gone meanwhile: the answer is then dropped quietly. */
    berth_deferred *(*defer)(const berth_request *req);
    int (*deferred_respond)(berth_deferred *d, int status, const char *json, size_t len);
    int (*deferred_respond_error)(berth_deferred *d, int status, const char *code, const char *message);

    /* Calls `callback(user_data)` once, about `milliseconds` from now, on
     * the worker's loop thread, where host functions may be called (answer
     * a deferred request there). Returns 0 when scheduled; non-zero, with a
     * log line, when called from another thread or before the worker
     * serves (in init). Pending callbacks do not run once the worker
     * exits. */
    int (*after)(uint32_t milliseconds, void (*callback)(void *user_data), void *user_data);

    /* Calls `callback(user_data)` soon on the worker's loop thread, once.
     * The one host function that may be called from ANY thread (a thread
     * the plugin started, a Swift executor): it is how work done
     * elsewhere comes back to the loop, where the other host functions
     * may be called. Callbacks posted from one thread run in the order
     * posted. Returns 0 when queued; non-zero (with a log line) before the
     * worker serves. Pending callbacks do not run once the worker exits. */
    int (*post)(void (*callback)(void *user_data), void *user_data);

    /* Calls another plugin on this host (see docs/calls.md): sends
     * `call` to one of its instances, over kept connections, with this
     * plugin's service identity as the token, and calls `done` once with
     * the result. `parent` is the deferred answer this call serves (or
     * NULL): the call inherits its deadline (what remains of it), trace and
     * hop count, and is cancelled when its client goes away. The host
     * copies everything in `call` before returning. Loop thread only.
     * Returns 0 when the call is under way, so `done` will run; non-zero,
     * with a log line, when it is refused at once (another thread, NULL
     * `call`, `done` or service, unknown `size`), and then `done` never
     * runs. Every other failure, immediate ones included
     * ("service_unknown", "circuit_open"), arrives through `done`. */
    int (*call)(berth_deferred *parent, const berth_call *call, berth_call_done_fn done, void *user_data);
} berth_host_api;

/* True when `api` provides the member `field` (it was appended in a minor
 * version the host has). */
#define BERTH_HOST_HAS(api, field) \
    ((api)->size >= offsetof(berth_host_api, field) + sizeof((api)->field))

/* Called once in the worker process after the ABI check, before any request.
 * `config_json` is NUL-terminated JSON text: the "config" member of the
 * plugin's settings file (<file>.json beside <file>.so) byte for byte as
 * written there (numbers are not rounded, escapes and spacing are kept),
 * "{}" when absent. Return 0 on success; anything else refuses the load,
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

    /* Added in ABI 1.1. NULL, or `route_count` policies parallel to
     * `routes`; `route_policy_size` is sizeof(berth_route_policy) as the
     * plugin compiled it (the table's stride). */
    const berth_route_policy *route_policies;
    uint32_t route_policy_size;

    /* Added in ABI 1.2. Optional (NULL): the plugin's own health check,
     * called on the loop thread between requests when the host asks
     * (docs/operating.md#health). Return NULL when the plugin can serve,
     * or a NUL-terminated reason when it cannot ("database unreachable");
     * the host copies it at once. It must return within 100 ms (a hook
     * that takes longer is reported NOT_SERVING "health check timed out"),
     * and must not block: answer from what the plugin already knows. */
    const char *(*health)(void);
} berth_plugin;

/* Fill the header fields of a descriptor. */
#define BERTH_PLUGIN_HEADER \
    .magic = BERTH_PLUGIN_MAGIC, .abi_major = BERTH_ABI_MAJOR, \
    .abi_minor = BERTH_ABI_MINOR, .size = sizeof(berth_plugin)

/* Fill route_policies and route_policy_size from a static array. */
#define BERTH_ROUTE_POLICIES(table) \
    .route_policies = (table), .route_policy_size = sizeof((table)[0])

/* Exported by every plugin. Returns a pointer to a descriptor that stays
 * valid for the life of the process. */
const berth_plugin *berth_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_H */
