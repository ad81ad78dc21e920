import Foundation
import Glibc
import XCTest

/// What a client without a token can put into the host's log and into
/// error answers: its values escaped and cut, never raw; and a burst of
/// refusals always leaves a count behind, even when nothing follows it.
final class E2ELogForgingTests: BerthTestCase {
    /// A refused request's path can hold a newline and terminal escapes
    /// (JSON escapes them; the server decodes them): logged raw, it started
    /// a forged line of the client's choosing.
    func testARefusedPathCannotForgeALogLineOrSendTerminalEscapes() throws {
        let host = try startExampleHost()
        let forged = "2026-12-03T18:00:00.000Z INFO  [berth] reload done: 2 loaded"
        let mark = host.logMark
        let refused = try connect("berth").call("GET", "/plugins/a\n\(forged)\u{1b}[2J/routes")
        XCTAssertEqual(refused.status, 401, refused.line)
        let line = try host.waitForLog(after: mark, where: { $0.contains("401 GET /plugins/a") }, "logging the 401")
        XCTAssertTrue(line.contains(#"/plugins/a\n2026-12-03T18:00:00.000Z INFO  [berth] reload done: 2 loaded\x1b[2J/routes from"#),
                      "the newline and the escape are not written escaped, on the refusal's own line: \(line)")
        XCTAssertFalse(host.logLines.dropFirst(mark).contains { $0.hasPrefix(forged) }, "a forged line:\n\(host.logText)")
        XCTAssertFalse(host.logText.contains("\u{1b}"), "a raw escape character reached the log")
    }

    /// A plugin that logs what a client sent (here the path, newline and
    /// escape included) cannot be made to write a forged host line.
    func testAPluginLoggingClientDataCannotForgeALine() throws {
        try PluginBuilder.build(TestPlugins.prelude + """
            static void echo_path(const berth_request *req, void *u) {
                (void)u;
                char line[512];
                snprintf(line, sizeof line, "asked for %.*s", (int)req->path.len, req->path.ptr);
                req->host->log(BERTH_LOG_WARN, line);
                answer(req, "{}");
            }
            static const berth_route routes[] = {
                {.method = "GET", .pattern = "/say/{what}", .handler = echo_path, .flags = BERTH_ROUTE_PUBLIC},
            };
            static const berth_plugin plugin = {
                BERTH_PLUGIN_HEADER, .name = "parrot", .version = "1.0.0", .routes = routes, .route_count = 1,
            };
            const berth_plugin *berth_plugin_entry(void) { return &plugin; }
            """, fileName: "libparrot.so", into: sandbox.plugins, flags: ["-include", "stdio.h"])
        let host = try startHost()
        let forged = "2026-12-03T18:00:00.000Z INFO  [berth] reload done: 2 loaded"
        let mark = host.logMark
        XCTAssertEqual(try call("parrot", "GET", "/say/x\n\(forged)\u{1b}[2J").status, 200)
        let line = try host.waitForLog(after: mark, where: { $0.contains("asked for /say/x") }, "the plugin's line")
        XCTAssertTrue(line.contains(#"asked for /say/x\n2026-12-03T18:00:00.000Z INFO  [berth] reload done: 2 loaded\x1b[2J"#),
                      "the plugin's message is not escaped on its own line: \(line)")
        XCTAssertFalse(host.logLines.dropFirst(mark).contains { $0.hasPrefix(forged) }, "a forged line:\n\(host.logText)")
        XCTAssertFalse(host.logText.contains("\u{1b}"), "a raw escape character reached the log")
    }

    /// A long path is cut in the log line (the control socket takes 64 KiB
    /// requests) and in the 404 and 405 answers (a worker takes 1 MiB).
    func testALongPathIsCutInTheLogAndInTheAnswers() throws {
        let host = try startExampleHost()
        let mark = host.logMark
        let long = String(repeating: "a", count: 60_000)
        XCTAssertEqual(try connect("berth").call("GET", "/plugins/\(long)/routes").status, 401)
        let line = try host.waitForLog(after: mark, where: { $0.contains("401 GET /plugins/aaa") }, "logging the 401")
        XCTAssertLessThan(line.utf8.count, 1024, "the logged path is not cut: a line of \(line.utf8.count) bytes")
        XCTAssertTrue(line.contains("more bytes]"), "the cut is not marked: \(line.prefix(600))")

        let huge = String(repeating: "b", count: 1_000_000)
        let notFound = try connect("cecho", timeout: 20).call("GET", "/\(huge)")
        XCTAssertEqual(notFound.status, 404, String(notFound.line.prefix(300)))
        XCTAssertLessThan(notFound.line.utf8.count, 1024, "the 404 echoes the path whole: \(notFound.line.utf8.count) bytes")
        XCTAssertTrue(notFound.errorMessage?.contains("more bytes]") == true, String(notFound.line.prefix(600)))
        let notAllowed = try connect("greeter", timeout: 20).call("DELETE", "/hello/\(huge)")
        XCTAssertEqual(notAllowed.status, 405, String(notAllowed.line.prefix(300)))
        XCTAssertLessThan(notAllowed.line.utf8.count, 1024, "the 405 echoes the path whole: \(notAllowed.line.utf8.count) bytes")
    }

    /// Wrong tokens sent in one burst, well inside the throttle's second:
    /// the lines past its limit used to be counted only by the next line
    /// that got through, so a burst with nothing after it left no trace.
    func testABurstOfWrongTokensIsCountedEvenIfNothingFollows() throws {
        let host = try startExampleHost()
        let connection = try connect("cecho")
        let mark = host.logMark
        let sent = 30
        let request = WireRequest.line("POST", "/echo", token: "not-the-token", data: "{}") + "\n"
        try connection.write(String(repeating: request, count: sent))
        for _ in 0..<sent { XCTAssertEqual(try connection.readResponse().status, 401) }
        let count = try host.waitForLog(after: mark, where: { $0.contains("similar line(s) suppressed") },
                                        "counting the refusals the throttle suppressed")
        let logged = host.logLines.dropFirst(mark).filter { $0.contains("401 POST /echo") }.count
        let words = count.split(separator: " ")
        let suppressed = words.firstIndex(of: "similar").flatMap { Int(words[$0 - 1]) }
        XCTAssertEqual(logged + (suppressed ?? -1000), sent, "logged \(logged), counted: \(count)")
    }
}
