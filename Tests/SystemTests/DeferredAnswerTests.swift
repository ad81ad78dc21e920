import Foundation
import Glibc
import XCTest

/// ABI 1.2: a handler takes its request's answer for later (defer) and
/// gives it from the worker's loop (an `after` callback, another request),
/// in request order on its connection, while the worker serves others; an
/// answer never given gets 504 at the route's time limit without the
/// worker being replaced. Synchronised by log lines and answers, never by
/// sleeping.
final class E2EDeferredAnswerTests: BerthTestCase {
    /// `GET /later/{ms}` answers {"later":ms} from an `after` callback.
    /// `GET /now/{n}` answers at once {"n":n,"calls":C}, C counting /now
    /// calls so far. `GET /held` defers, keeps the handle and logs "held
    /// deferred"; `POST /release` answers the held one with {"calls":C}
    /// (so C says how many /now calls were served while it waited), then
    /// itself. `GET /never` (time limit 300 ms) defers and keeps its handle
    /// forever; `POST /late` answers that handle after its 504 and answers
    /// itself {"rc":R} with what deferred_respond returned. `GET /thread`
    /// defers, tries to answer from a thread it starts (refused), then
    /// answers on the loop thread with {"rc_from_thread":R}.
    static let source = """
    #include <berth.h>
    #include <pthread.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>

    static const berth_host_api *host;
    static int now_calls;
    static berth_deferred *held, *forgotten;

    static int setup(const berth_host_api *h, const char *config) {
        (void)config;
        host = h;
        if (!BERTH_HOST_HAS(h, after)) { h->log(BERTH_LOG_ERROR, "host lacks ABI 1.2"); return 1; }
        return 0;
    }

    static void reply(berth_deferred *d, const char *json) { host->deferred_respond(d, 200, json, strlen(json)); }

    typedef struct { berth_deferred *d; char body[48]; } later_t;
    static void answer_later(void *u) {
        later_t *l = u;
        reply(l->d, l->body);
        free(l);
    }
    static void later(const berth_request *req, void *u) {
        (void)u;
        char digits[16] = {0};
        memcpy(digits, req->params[0].value.ptr, req->params[0].value.len < 15 ? req->params[0].value.len : 15);
        unsigned ms = (unsigned)atoi(digits);
        later_t *l = malloc(sizeof *l);
        snprintf(l->body, sizeof l->body, "{\\"later\\":%u}", ms);
        l->d = req->host->defer(req);
        if (req->host->after(ms, answer_later, l) != 0) req->host->log(BERTH_LOG_ERROR, "after refused");
    }
    static void now(const berth_request *req, void *u) {
        (void)u;
        char body[64];
        now_calls++;
        int n = snprintf(body, sizeof body, "{\\"n\\":%.*s,\\"calls\\":%d}", (int)req->params[0].value.len,
                         req->params[0].value.ptr, now_calls);
        req->host->respond(req, 200, body, (size_t)n);
    }
    static void hold(const berth_request *req, void *u) {
        (void)u;
        held = req->host->defer(req);
        req->host->log(BERTH_LOG_INFO, "held deferred");
    }
    static void release(const berth_request *req, void *u) {
        (void)u;
        char body[32];
        if (!held) { req->host->respond_error(req, 409, "nothing_held", "nothing held"); return; }
        snprintf(body, sizeof body, "{\\"calls\\":%d}", now_calls);
        reply(held, body);
        held = NULL;
        req->host->respond(req, 200, "{}", 2);
    }
    static void never(const berth_request *req, void *u) {
        (void)u;
        forgotten = req->host->defer(req);
    }
    static void late(const berth_request *req, void *u) {
        (void)u;
        char body[32];
        int rc = forgotten ? host->deferred_respond(forgotten, 200, "{}", 2) : -100;
        forgotten = NULL;
        int n = snprintf(body, sizeof body, "{\\"rc\\":%d}", rc);
        req->host->respond(req, 200, body, (size_t)n);
    }
    static void *from_thread(void *d) {
        static int rc;
        rc = host->deferred_respond(d, 200, "{\\"from\\":\\"thread\\"}", 17);
        return &rc;
    }
    static void thread(const berth_request *req, void *u) {
        (void)u;
        berth_deferred *d = req->host->defer(req);
        pthread_t t;
        void *result;
        pthread_create(&t, NULL, from_thread, d);
        pthread_join(t, &result);
        char body[48];
        int n = snprintf(body, sizeof body, "{\\"rc_from_thread\\":%d}", *(int *)result);
        host->deferred_respond(d, 200, body, (size_t)n);
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/later/{ms}", .handler = later, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/now/{n}", .handler = now, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/held", .handler = hold, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "POST", .pattern = "/release", .handler = release, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/never", .handler = never, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "POST", .pattern = "/late", .handler = late, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/thread", .handler = thread, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_route_policy policies[] = {
        {0}, {0}, {0}, {0}, {.timeout_ms = 300}, {0}, {0},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "later", .version = "1.0.0",
        .routes = routes, .route_count = 7, .init = setup, BERTH_ROUTE_POLICIES(policies),
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    private func startLaterHost() throws -> BerthHost {
        try PluginBuilder.build(Self.source, fileName: "liblater.so", into: sandbox.plugins)
        return try startHost()
    }

    func testAHandlerAnswersLaterFromAnAfterCallback() throws {
        try startLaterHost()
        let answer = try call("later", "GET", "/later/50")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["later"]), 50, answer.line)
        // And again on one connection: the handle and the timer are per request.
        let connection = try connect("later")
        for ms in [0, 20, 1] {
            XCTAssertEqual(jsonInt(try connection.call("GET", "/later/\(ms)").dataObject?["later"]), ms)
        }
    }

    func testPipelinedAnswersKeepTheirOrderWhileOtherConnectionsAreServed() throws {
        let host = try startLaterHost()
        let mark = host.logMark
        let waiting = try connect("later")
        // Three requests in one write: the first defers, the others would
        // answer at once.
        try waiting.write([WireRequest.line("GET", "/held", id: "1"), WireRequest.line("GET", "/now/2", id: "2"),
                           WireRequest.line("GET", "/now/3", id: "3")].map { $0 + "\n" }.joined())
        try host.waitForLog(containing: "held deferred", after: mark)

        // Another connection is served while the first waits.
        let other = try connect("later")
        let served = try other.call("GET", "/now/9")
        XCTAssertEqual(served.status, 200, served.line)
        XCTAssertEqual(jsonInt(served.dataObject?["calls"]), 1, "the waiting connection's /now requests were not served yet: \(served.line)")
        XCTAssertEqual(try other.call("POST", "/release").status, 200)

        let first = try waiting.readResponse()
        let second = try waiting.readResponse()
        let third = try waiting.readResponse()
        XCTAssertEqual([first.rawID, second.rawID, third.rawID], ["1", "2", "3"], "answers in request order")
        XCTAssertEqual(jsonInt(first.dataObject?["calls"]), 1, "the held answer was given after one other /now: \(first.line)")
        XCTAssertEqual(jsonInt(second.dataObject?["calls"]), 2, second.line)
        XCTAssertEqual(jsonInt(third.dataObject?["calls"]), 3, third.line)
    }

    func testAnAnswerNeverGivenGets504AtTheTimeLimitAndTheWorkerGoesOn() throws {
        let host = try startLaterHost()
        let pid = try workerPID("later")
        let connection = try connect("later")
        let timedOut = try connection.call("GET", "/never")
        XCTAssertEqual(timedOut.status, 504, timedOut.line)
        XCTAssertEqual(timedOut.errorCode, "timeout", timedOut.line)
        XCTAssertTrue(timedOut.errorMessage?.contains("GET /never") == true, timedOut.line)
        // The same connection and worker serve on.
        XCTAssertEqual(try connection.call("GET", "/now/1").status, 200)
        XCTAssertEqual(try workerPID("later"), pid, "the worker was not replaced")
        XCTAssertEqual(jsonInt(try plugin("later", in: try status())["restarts"]), 0)

        // The plugin answers after the 504: refused, logged, nothing sent.
        let mark = host.logMark
        let late = try connection.call("POST", "/late")
        XCTAssertEqual(late.status, 200, late.line)
        XCTAssertNotEqual(jsonInt(late.dataObject?["rc"]), 0, "a late answer is refused: \(late.line)")
        XCTAssertNotEqual(jsonInt(late.dataObject?["rc"]), -100, "the plugin kept the handle: \(late.line)")
        try host.waitForLog(containing: "came after its 0.3 s time limit", after: mark)
        XCTAssertEqual(try connection.call("GET", "/now/2").status, 200, "nothing stray arrived before this answer")
        XCTAssertEqual(host.logText.components(separatedBy: "came after its").count - 1, 1, "logged once")
    }

    func testAnAnswerFromAnotherThreadIsRefusedWithALogLine() throws {
        let host = try startLaterHost()
        let answer = try call("later", "GET", "/thread")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertNotEqual(jsonInt(answer.dataObject?["rc_from_thread"]), 0, answer.line)
        XCTAssertNil(answer.dataObject?["from"], answer.line)
        try host.waitForLog(containing: "deferred_respond called from a thread the plugin started; refused")
        XCTAssertEqual(try call("later", "GET", "/now/1").status, 200)
    }
}
