import Foundation
import Glibc
import XCTest

/// Who may call what: scoped tokens from the tokens file (the seed's READ /
/// LOCK / WRITE keys), the caller's kernel credentials reaching handlers and
/// the log, and per-plugin allow-lists of uids. All on the real host.
final class E2EAccessTests: BerthTestCase {
    // Three keys with the seed's roles (seed 004: RESOURCE_READ,
    // RESOURCE_READ_LOCK, RESOURCE_WRITE), and one nobody issued.
    let readToken = String(repeating: "a1", count: 32)
    let lockToken = String(repeating: "b2", count: 32)
    let writeToken = String(repeating: "c3", count: 32)
    let unknownToken = String(repeating: "d4", count: 32)

    var tokensFile: String { sandbox.root + "/tokens" }

    func writeTokens(_ text: String, mode: mode_t = 0o600) throws {
        // Written beside and renamed in, as an operator's editor would.
        let temporary = tokensFile + ".tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(temporary, mode), 0)
        XCTAssertEqual(rename(temporary, tokensFile), 0)
    }

    var seedTokens: String {
        """
        # the seed's roles
        \(readToken)   read
        \(lockToken)   read,lock
        \(writeToken)  read, lock, write   # spaces after commas are fine
        """
    }

    func startResourceHost(_ extra: [String] = []) throws -> BerthHost {
        try PluginBuilder.build(AccessPlugins.resource, fileName: "libresource.so", into: sandbox.plugins)
        try writeTokens(seedTokens)
        return try startHost(["--tokens", tokensFile] + extra)
    }

    func testSeedRolesAreScopesAndWrongScopeIs403() throws {
        let host = try startResourceHost()
        let admin = try sandbox.token()
        let routes: [(method: String, path: String, scope: String?)] = [
            ("GET", "/resource/printer", "read"),
            ("POST", "/resource/printer/lock", "lock"),
            ("PUT", "/resource/printer", "write"),
            ("POST", "/resource", "write"),
            ("GET", "/any", nil),
        ]
        let holders: [(name: String, token: String, scopes: Set<String>)] = [
            ("read", readToken, ["read"]),
            ("read+lock", lockToken, ["read", "lock"]),
            ("write", writeToken, ["read", "lock", "write"]),
        ]
        let connection = try connect("resource")
        // Refusals are logged with the client's kernel credentials.
        let me = "from pid \(getpid()) uid \(getuid()) gid \(getgid())"
        XCTAssertEqual(try connection.call("PUT", "/resource/printer", token: readToken, data: "{}").status, 403)
        let denied = try host.waitForLog(containing: "403 PUT /resource/printer \(me)")
        XCTAssertTrue(denied.contains("[resource]") && denied.contains("scope \"write\""), denied)
        XCTAssertEqual(try connection.call("GET", "/any", token: unknownToken).status, 401)
        try host.waitForLog(containing: "401 GET /any \(me): wrong auth_token")
        XCTAssertEqual(try connection.call("GET", "/any").status, 401)
        try host.waitForLog(containing: "401 GET /any \(me): missing auth_token")

        for route in routes {
            for holder in holders {
                let response = try connection.call(route.method, route.path, token: holder.token, data: "{}")
                let allowed = route.scope.map(holder.scopes.contains) ?? true
                if allowed {
                    XCTAssertEqual(response.status, 200, "\(holder.name) on \(route.method) \(route.path): \(response.line)")
                } else {
                    XCTAssertEqual(response.status, 403, "\(holder.name) on \(route.method) \(route.path): \(response.line)")
                    XCTAssertEqual(response.errorCode, "forbidden", response.line)
                    let message = response.errorMessage ?? ""
                    XCTAssertTrue(message.contains("lacks the scope \"\(route.scope!)\"") && message.contains("\(route.method) "),
                                  "the message names the scope and the route: \(response.line)")
                    XCTAssertNil(response.object["data"], response.line)
                }
            }
            // The admin token has every scope.
            XCTAssertEqual(try connection.call(route.method, route.path, token: admin, data: "{}").status, 200, "admin on \(route.path)")
            // Unknown or missing token: 401, whatever the route's scope.
            let unknown = try connection.call(route.method, route.path, token: unknownToken, data: "{}")
            XCTAssertEqual(unknown.status, 401, unknown.line)
            XCTAssertEqual(unknown.errorCode, "unauthorized", unknown.line)
            XCTAssertTrue(unknown.errorMessage?.contains("wrong auth_token") == true, unknown.line)
            let missing = try connection.call(route.method, route.path, data: "{}")
            XCTAssertEqual(missing.status, 401, missing.line)
            XCTAssertTrue(missing.errorMessage?.contains("missing auth_token") == true, missing.line)
            // A token that only starts like a real one is no token.
            XCTAssertEqual(try connection.call(route.method, route.path, token: String(writeToken.dropLast()), data: "{}").status, 401)
        }
        // A public route needs nothing, even though its policy names a scope.
        XCTAssertEqual(try connection.call("GET", "/ping").status, 200)

        // A flood of wrong tokens cannot flood the log: at most 10 lines a
        // second, and the next line that gets through counts the rest.
        let mark = host.logMark
        for _ in 0..<200 { XCTAssertEqual(try connection.call("GET", "/any", token: unknownToken).status, 401) }
        XCTAssertLessThanOrEqual(host.logLines.dropFirst(mark).filter { $0.contains("401 GET /any") }.count, 20)
        XCTAssertTrue(try eventually {
            _ = try connection.call("GET", "/any", token: unknownToken)
            return host.logLines.dropFirst(mark).contains { $0.contains("similar line(s) suppressed") }
        }, "no line reported the suppressed ones:\n\(host.logText)")
    }

    func testControlSocketIsAdminOnlyAndListsRouteScopes() throws {
        _ = try startResourceHost()
        let control = try connect("berth")
        let scoped = try control.call("GET", "/status", token: writeToken)
        XCTAssertEqual(scoped.status, 403, scoped.line)
        XCTAssertTrue(scoped.errorMessage?.contains("needs the admin token") == true, scoped.line)
        XCTAssertEqual(try control.call("POST", "/reload", token: lockToken).status, 403)
        XCTAssertEqual(try control.call("GET", "/status", token: unknownToken).status, 401)

        let routes = try control.call("GET", "/plugins/resource/routes", token: try sandbox.token())
        XCTAssertEqual(routes.status, 200, routes.line)
        let list = try XCTUnwrap(routes.dataObject?["routes"] as? [[String: Any]], routes.line)
        var scopes: [String: String] = [:]
        for route in list {
            let key = "\(route["method"] as? String ?? "?") \(route["pattern"] as? String ?? "?")"
            scopes[key] = route["scope"] is NSNull ? "none" : route["scope"] as? String
        }
        XCTAssertEqual(scopes, [
            "GET /resource/{name}": "read", "POST /resource/{name}/lock": "lock", "PUT /resource/{name}": "write",
            "POST /resource": "write", "GET /any": "none", "GET /ping": "none",
        ], routes.line)
    }

    func testReloadRereadsTheTokensFileAndRevokesOnTheLiveWorker() throws {
        let host = try startResourceHost()
        let pid = try workerPID("resource")
        // A connection opened before the change: the same worker must apply it.
        let connection = try connect("resource")
        XCTAssertEqual(try connection.call("PUT", "/resource/x", token: writeToken, data: "{}").status, 200)
        XCTAssertEqual(try connection.call("PUT", "/resource/x", token: readToken, data: "{}").status, 403)

        let newToken = String(repeating: "e5", count: 32)
        // write is revoked, read gains write, a new token appears.
        try writeTokens("""
        \(readToken) read,write
        \(newToken) lock
        """)
        let mark = host.logMark
        let outcome = try Command.run(BuildProducts.berth, ["reload", "--run-dir", sandbox.run], environment: TestEnvironment.berth)
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        try host.waitForLog(containing: "tokens: 2 scoped token(s) from \(tokensFile)", after: mark)

        // As soon as the reload has answered, with no restart.
        XCTAssertEqual(try connection.call("PUT", "/resource/x", token: writeToken, data: "{}").status, 401)
        XCTAssertEqual(try connection.call("PUT", "/resource/x", token: readToken, data: "{}").status, 200)
        XCTAssertEqual(try connection.call("POST", "/resource/x/lock", token: newToken).status, 200)
        XCTAssertEqual(try connection.call("GET", "/resource/x", token: newToken).status, 403)
        XCTAssertEqual(try workerPID("resource"), pid, "the worker was updated, not replaced")

        // SIGHUP does the same.
        try writeTokens("\(newToken) read\n")
        let hup = host.logMark
        host.signal(SIGHUP)
        try host.waitForLog(containing: "reload done", after: hup)
        XCTAssertEqual(try connection.call("GET", "/resource/x", token: newToken).status, 200)
        XCTAssertEqual(try connection.call("GET", "/resource/x", token: readToken).status, 401)
    }

    func testBadTokensFileRefusesStartAndABadReloadKeepsTheTokensInForce() throws {
        try PluginBuilder.build(AccessPlugins.resource, fileName: "libresource.so", into: sandbox.plugins)
        // Readable by others: refused like ssh refuses a private key.
        try writeTokens(seedTokens, mode: 0o644)
        let open = try startHost(["--tokens", tokensFile], waitUntilReady: false)
        XCTAssertEqual(try open.waitForExit(), 1)
        XCTAssertTrue(open.logText.contains("permissions 0644 for \(tokensFile) are too open") && open.logText.contains("chmod 600"), open.logText)

        try writeTokens("\(readToken) read\nshort write\n")
        let short = try startHost(["--tokens", tokensFile], waitUntilReady: false)
        XCTAssertEqual(try short.waitForExit(), 1)
        XCTAssertTrue(short.logText.contains("\(tokensFile):2: the token is 5 characters; use 32 to 512"), short.logText)

        let missing = try startHost(["--tokens", sandbox.root + "/nope"], waitUntilReady: false)
        XCTAssertEqual(try missing.waitForExit(), 1)
        XCTAssertTrue(missing.logText.contains("cannot open the tokens file"), missing.logText)

        try writeTokens(seedTokens)
        let host = try startHost(["--tokens", tokensFile])
        try writeTokens("\(readToken) read\n\(readToken) write\n")
        let outcome = try Command.run(BuildProducts.berth, ["reload", "--run-dir", sandbox.run], environment: TestEnvironment.berth)
        XCTAssertEqual(outcome.status, 1, "a bad tokens file fails the reload: \(outcome.stdout)")
        XCTAssertTrue(outcome.stdout.contains("failed \(tokensFile): \(tokensFile):2: the same token is on line 1"), outcome.stdout)
        try host.waitForLog(containing: "the tokens loaded before stay in force")
        XCTAssertEqual(try call("resource", "PUT", "/resource/x", token: writeToken, data: "{}").status, 200)
        // The admin token is not a scoped token.
        try writeTokens("\(try sandbox.token()) read\n")
        let again = try Command.run(BuildProducts.berth, ["reload", "--run-dir", sandbox.run], environment: TestEnvironment.berth)
        XCTAssertTrue(again.stdout.contains("this is the admin token"), again.stdout)
    }

    func testPeerCredentialsReachCAndSwiftHandlers() throws {
        try sandbox.install(BuildProducts.greeter)
        _ = try startResourceHost()
        let admin = try sandbox.token()
        let c = try call("resource", "GET", "/ping")
        XCTAssertEqual(c.dataObject?["has_peer"] as? Bool, true, c.line)
        XCTAssertEqual(jsonInt(c.dataObject?["pid"]), Int(getpid()), c.line)
        XCTAssertEqual(jsonInt(c.dataObject?["uid"]), Int(getuid()), c.line)
        XCTAssertEqual(jsonInt(c.dataObject?["gid"]), Int(getgid()), c.line)

        // The Swift SDK's request.peer; the route needs the "whoami" scope.
        let swift = try call("greeter", "GET", "/whoami", token: admin)
        XCTAssertEqual(swift.status, 200, swift.line)
        XCTAssertEqual(jsonInt(swift.dataObject?["pid"]), Int(getpid()), swift.line)
        XCTAssertEqual(jsonInt(swift.dataObject?["uid"]), Int(getuid()), swift.line)
        XCTAssertEqual(jsonInt(swift.dataObject?["gid"]), Int(getgid()), swift.line)
        XCTAssertEqual(try call("greeter", "GET", "/whoami", token: readToken).status, 403)

        // Another process is another pid: the credentials are the
        // connecting process's, read by the kernel, not the host's guess.
        let client = try PeerClient.build(into: sandbox.root)
        let other = try client.run(socket: sandbox.socket("resource"), line: WireRequest.line("GET", "/ping"))
        let response = try XCTUnwrap(other.lines.first.map(WireResponse.init(line:)), other.output)
        XCTAssertEqual(jsonInt(response.dataObject?["pid"]), Int(other.pid), other.output)
        XCTAssertNotEqual(other.pid, getpid())
    }

    func testAllowedUIDsRefuseOtherPeersWithOneLineThenClose() throws {
        try PluginBuilder.build(AccessPlugins.resource, fileName: "libresource.so", into: sandbox.plugins)
        let stranger: UInt32 = 4242
        try #"{"allowed_uids": [\#(stranger)]}"#.write(toFile: sandbox.plugins + "/libresource.json", atomically: true, encoding: .utf8)
        let host = try startHost()

        // This process's uid is not on the list: one error line, then the
        // connection is closed, before any request reaches the plugin.
        let connection = try connect("resource")
        let refused = try connection.readResponse()
        XCTAssertEqual(refused.status, 403, refused.line)
        XCTAssertEqual(refused.errorCode, "peer_not_allowed", refused.line)
        XCTAssertTrue(refused.errorMessage?.contains("uid \(getuid()) may not use plugin resource") == true, refused.line)
        XCTAssertTrue(refused.errorMessage?.contains("allowed_uids") == true, refused.line)
        connection.shutdownWrite()
        XCTAssertTrue(try connection.isClosedByServer())
        let logged = try host.waitForLog(containing: "refused a connection from pid \(getpid()) uid \(getuid()) gid \(getgid())")
        XCTAssertTrue(logged.contains("allowed_uids [\(stranger)]") && logged.contains("[resource]"), logged)
        // A client that writes its request first gets the same answer.
        let eager = try connect("resource")
        try eager.write(WireRequest.line("GET", "/ping") + "\n")
        XCTAssertEqual(try eager.readResponse().errorCode, "peer_not_allowed")
        XCTAssertEqual(jsonInt(try plugin("resource", in: try status())["requests"]), 0, "no request reached the plugin")

        // A process running as the allowed uid is served, and the handler
        // sees that uid. Switching uid needs root.
        guard getuid() == 0 else { throw XCTSkip("the allowed-uid half needs root to run a client as uid \(stranger)") }
        // Let the stranger reach the socket: the run directory is 0700 and
        // the socket 0660, which is exactly what keeps other users out.
        XCTAssertEqual(chmod(sandbox.root, 0o711), 0)
        XCTAssertEqual(chmod(sandbox.run, 0o711), 0)
        XCTAssertEqual(chmod(sandbox.socket("resource"), 0o666), 0)
        let client = try PeerClient.build(into: sandbox.root)
        let served = try client.run(socket: sandbox.socket("resource"), line: WireRequest.line("GET", "/ping"), uid: stranger, gid: stranger)
        let response = try XCTUnwrap(served.lines.first.map(WireResponse.init(line:)), served.output)
        XCTAssertEqual(response.status, 200, served.output)
        XCTAssertEqual(jsonInt(response.dataObject?["uid"]), Int(stranger), served.output)
        XCTAssertEqual(jsonInt(response.dataObject?["gid"]), Int(stranger), served.output)
    }

    func testBadAllowedUIDsAndBadScopesAreRefusedAtLoad() throws {
        try PluginBuilder.build(AccessPlugins.resource, fileName: "libresource.so", into: sandbox.plugins)
        try PluginBuilder.build(AccessPlugins.badScope, fileName: "libbadscope.so", into: sandbox.plugins)
        try #"{"allowed_uids": ["root"]}"#.write(toFile: sandbox.plugins + "/libresource.json", atomically: true, encoding: .utf8)
        _ = try startHost()
        let report = try status()
        let resource = try plugin(file: "libresource.so", in: report)
        XCTAssertEqual(resource["state"] as? String, "failed", "\(resource)")
        XCTAssertTrue((resource["error"] as? String)?.contains("libresource.json:1: \"allowed_uids\" must be a non-empty array of numeric uids") == true, "\(resource)")
        let bad = try plugin(file: "libbadscope.so", in: report)
        XCTAssertTrue((bad["error"] as? String)?.contains("route 0 needs scope \"read all\", which no token can carry") == true, "\(bad)")
    }
}

/// C plugins for the access tests.
enum AccessPlugins {
    /// The seed's resource server as routes with scopes. Every handler
    /// answers with its name and the caller's credentials.
    static let resource = TestPlugins.prelude + """
    #include <stdio.h>
    static void show(const berth_request *req, void *u) {
        char out[256];
        snprintf(out, sizeof out, "{\\"route\\":\\"%s\\",\\"has_peer\\":%s,\\"pid\\":%d,\\"uid\\":%u,\\"gid\\":%u}",
                 (const char *)u, BERTH_REQUEST_HAS(req, peer_gid) ? "true" : "false",
                 (int)req->peer_pid, (unsigned)req->peer_uid, (unsigned)req->peer_gid);
        answer(req, out);
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/resource/{name}", .handler = show, .user_data = (void *)"read"},
        {.method = "POST", .pattern = "/resource/{name}/lock", .handler = show, .user_data = (void *)"lock"},
        {.method = "PUT", .pattern = "/resource/{name}", .handler = show, .user_data = (void *)"write"},
        {.method = "POST", .pattern = "/resource", .handler = show, .user_data = (void *)"create"},
        {.method = "GET", .pattern = "/any", .handler = show, .user_data = (void *)"any"},
        {.method = "GET", .pattern = "/ping", .handler = show, .user_data = (void *)"ping", .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_route_policy policies[] = {
        {.scope = "read"}, {.scope = "lock"}, {.scope = "write"}, {.scope = "write"}, {.scope = NULL}, {.scope = "write"},
    };
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "resource", .version = "1.0.0",
        .routes = routes, .route_count = 6, BERTH_ROUTE_POLICIES(policies),
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """

    /// A scope no tokens file could grant.
    static let badScope = TestPlugins.prelude + """
    static void ok(const berth_request *req, void *u) { (void)u; answer(req, "{}"); }
    static const berth_route routes[] = {{.method = "GET", .pattern = "/x", .handler = ok}};
    static const berth_route_policy policies[] = {{.scope = "read all"}};
    static const berth_plugin plugin = {
        BERTH_PLUGIN_HEADER, .name = "badscope", .version = "1.0.0",
        .routes = routes, .route_count = 1, BERTH_ROUTE_POLICIES(policies),
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """
}

/// A separate client process (so it has its own pid, and as root its own
/// uid): connects, sends one line, shuts down its writing side and prints
/// what comes back until the server closes; its receive timeout bounds it.
struct PeerClient {
    let path: String

    static let source = """
    #include <grp.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/socket.h>
    #include <sys/time.h>
    #include <sys/un.h>
    #include <unistd.h>
    int main(int argc, char **argv) {
        if (argc != 5) return 64;
        if (atoi(argv[2]) >= 0) {
            if (setgroups(0, NULL) || setgid(atoi(argv[3])) || setuid(atoi(argv[2]))) { perror("setuid"); return 3; }
        }
        printf("pid %d\\n", (int)getpid());
        fflush(stdout);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
        if (connect(fd, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 2; }
        send(fd, argv[4], strlen(argv[4]), MSG_NOSIGNAL);
        send(fd, "\\n", 1, MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
        return n == 0 ? 0 : 4;
    }
    """

    static func build(into directory: String) throws -> PeerClient {
        let sourcePath = directory + "/peerclient.c", output = directory + "/peerclient"
        try source.write(toFile: sourcePath, atomically: false, encoding: .utf8)
        try PluginBuilder.compile(sourcePath, into: output, program: true)
        return PeerClient(path: output)
    }

    struct Outcome {
        let pid: pid_t
        let lines: [String]
        let output: String
    }

    func run(socket: String, line: String, uid: UInt32? = nil, gid: UInt32? = nil) throws -> Outcome {
        let result = try Command.run(path, [socket, uid.map { String($0) } ?? "-1", gid.map { String($0) } ?? "-1", line], timeout: 10)
        let output = "status \(result.status)\n\(result.stdout)\(result.stderr)"
        guard result.status == 0 else { throw HarnessError("peerclient failed: \(output)") }
        var lines = result.stdout.split(separator: "\n").map(String.init)
        guard let first = lines.first, first.hasPrefix("pid "), let pid = pid_t(first.dropFirst(4)) else {
            throw HarnessError("peerclient printed no pid: \(output)")
        }
        lines.removeFirst()
        return Outcome(pid: pid, lines: lines, output: output)
    }
}
