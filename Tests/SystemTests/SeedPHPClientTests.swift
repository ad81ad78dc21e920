import Foundation
import Glibc
import XCTest

/// The seed's own PHP client (seed 000, "Simple Client"), run unchanged by
/// the real php CLI against both example plugins. Its json_encode (default
/// flags) writes every '/' as "\/" and non-ASCII as \u escapes, and it
/// sends one object with no newline: Berth must read all of that as JSON
/// means it.
final class E2ESeedPHPClientTests: BerthTestCase {
    /// The seed's code, verbatim but for the four values it names
    /// (socket path, method, path, data), which the test fills in (plain
    /// text with no quote or backslash, so no PHP escaping is needed).
    private static let seedClient = #"""
    <?php
    // Connect to service
    $client = socket_create(AF_UNIX, SOCK_STREAM, 0);
    $socketPath = "@SOCKET@";

    if (socket_connect($client, $socketPath)) {
        // Prepare request
        $request = json_encode([
            'path'       => '@PATH@',
            'method'     => '@METHOD@',
            'auth_token' => file_get_contents('.auth_token'),
            'data'       => @DATA@
        ]);
        
        // Send request
        socket_write($client, $request, strlen($request));
        
        // Read response
        $response = '';
        while ($buffer = socket_read($client, 4096)) {
            $response .= $buffer;
            if (strlen($buffer) < 4096) break;
        }
        
        // Process response
        $data = json_decode($response, true);
        var_dump($data);
    }
    socket_close($client);

    """#

    /// Runs the seed client from the run directory, where it reads
    /// `.auth_token` as the seed does; returns what var_dump printed.
    private func runSeedClient(_ php: String, service: String, method: String, path: String, data: String) throws -> String {
        let script = Self.seedClient
            .replacingOccurrences(of: "@SOCKET@", with: sandbox.socket(service))
            .replacingOccurrences(of: "@METHOD@", with: method)
            .replacingOccurrences(of: "@PATH@", with: path)
            .replacingOccurrences(of: "@DATA@", with: data)
        let file = sandbox.root + "/client.php"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Command.run("/bin/sh", ["-c", #"cd "$0" && exec "$1" "$2""#, sandbox.run, php, file], timeout: 30)
        XCTAssertEqual(result.status, 0, "php failed: \(result.stderr)\n\(result.stdout)")
        return result.stdout
    }

    /// php from PATH. Missing: skipped on a developer's machine, a failure
    /// under CI (CI=true), which must never skip it silently.
    private func findPHP() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        if let php = path.split(separator: ":").map({ $0 + "/php" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return php
        }
        let message = "php is not installed (.ci/run installs php-cli)"
        if let ci = ProcessInfo.processInfo.environment["CI"], !ci.isEmpty, ci != "false" {
            throw HarnessError(message + "; CI is set, so this test may not be skipped")
        }
        throw XCTSkip(message)
    }

    func testTheSeedPHPClientWorksUnchangedAgainstBothExamples() throws {
        let php = try findPHP()
        // An admin token with '/' (a token may hold "-._~+/="): json_encode
        // sends it as "seed\/php...", so the token arrives escaped too.
        try FileManager.default.createDirectory(atPath: sandbox.run, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        let token = "seed/php+client/token=0123456789abcdef0123456789abcdef"
        XCTAssertTrue(FileManager.default.createFile(atPath: sandbox.run + "/.auth_token", contents: Data(token.utf8),
                                                     attributes: [.posixPermissions: 0o600]))
        try startExampleHost()
        XCTAssertEqual(try sandbox.token(), token)

        // Public route; the path arrives as "\/hello\/bob".
        let hello = try runSeedClient(php, service: "greeter", method: "GET", path: "/hello/bob", data: "['id' => 123]")
        XCTAssertTrue(hello.contains("[\"status\"]=>\n  int(200)"), hello)
        XCTAssertTrue(hello.contains(#"string(11) "Hello, bob!""#), hello)
        // Non-ASCII as \u escapes, and a query after the decoded path.
        let umlaut = try runSeedClient(php, service: "greeter", method: "GET", path: "/hello/böb?lang=de", data: "['id' => 123]")
        XCTAssertTrue(umlaut.contains(#"string(12) "Hello, böb!""#), umlaut)
        // A route that needs the token (scope whoami: the admin token has all).
        let whoami = try runSeedClient(php, service: "greeter", method: "GET", path: "/whoami", data: "['id' => 123]")
        XCTAssertTrue(whoami.contains("[\"status\"]=>\n  int(200)"), whoami)
        XCTAssertTrue(whoami.contains("[\"uid\"]=>\n    int(\(getuid()))"), whoami)

        // The C example: the token-protected echo, and the public ping.
        let echo = try runSeedClient(php, service: "cecho", method: "POST", path: "/echo",
                                     data: "['id' => 123, 'path' => '/a/b']")
        XCTAssertTrue(echo.contains("[\"status\"]=>\n  int(200)"), echo)
        XCTAssertTrue(echo.contains("[\"id\"]=>\n    int(123)\n    [\"path\"]=>\n    string(4) \"/a/b\""), echo)
        let ping = try runSeedClient(php, service: "cecho", method: "GET", path: "/ping", data: "['id' => 123]")
        XCTAssertTrue(ping.contains("[\"pong\"]=>\n    bool(true)"), ping)
    }
}
