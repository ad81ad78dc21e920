import Foundation
import Glibc
import XCTest

/// Workers run with no more than they need: the user and group from the
/// settings (when the host is root), no way to gain privileges, and no
/// descriptor beyond their own.
final class E2EPrivilegeTests: BerthTestCase {
    /// "Uid", "Gid", "Groups", "NoNewPrivs" ... from /proc/<pid>/status.
    private func processStatus(_ pid: pid_t) throws -> [String: String] {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = parts[1].split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        }
        return fields
    }

    private func settings(_ json: String, for library: String) throws {
        try json.write(toFile: sandbox.plugins + "/" + library + ".json", atomically: true, encoding: .utf8)
    }

    func testWorkersRunAsTheConfiguredUserAndGroupAndCannotGainPrivileges() throws {
        try XCTSkipUnless(geteuid() == 0, "switching users needs a host running as root")
        let nobody = try XCTUnwrap(getpwnam("nobody")).pointee
        let daemonGroup = try XCTUnwrap(getgrnam("daemon")).pointee.gr_gid
        try sandbox.installExamples()
        try settings(#"{"user": "nobody"}"#, for: "libCEchoPlugin")
        try settings(#"{"group": "daemon", "user": "nobody"}"#, for: "libGreeterPlugin")
        try startHost()

        let cecho = try processStatus(try workerPID("cecho"))
        XCTAssertEqual(cecho["Uid"], Array(repeating: "\(nobody.pw_uid)", count: 4).joined(separator: " "), "\(cecho)")
        XCTAssertEqual(cecho["Gid"], Array(repeating: "\(nobody.pw_gid)", count: 4).joined(separator: " "), "\(cecho)")
        XCTAssertEqual(cecho["Groups"], "\(nobody.pw_gid)", "\(cecho)")
        XCTAssertEqual(cecho["NoNewPrivs"], "1", "\(cecho)")
        let greeter = try processStatus(try workerPID("greeter"))
        XCTAssertEqual(greeter["Uid"], Array(repeating: "\(nobody.pw_uid)", count: 4).joined(separator: " "), "\(greeter)")
        XCTAssertEqual(greeter["Gid"], Array(repeating: "\(daemonGroup)", count: 4).joined(separator: " "), "\(greeter)")
        XCTAssertEqual(greeter["NoNewPrivs"], "1", "\(greeter)")

        // Both serve as usual: the socket came from the host, already open.
        XCTAssertEqual(try call("greeter", "GET", "/hello/nobody").line, #"{"id":null,"status":200,"data":{"greeting":"Hello, nobody!"}}"#)
        XCTAssertEqual(try call("cecho", "POST", "/echo", token: try sandbox.token(), data: "[1]").line, #"{"id":null,"status":200,"data":[1]}"#)
    }

    func testWorkersWithoutAUserStayTheHostsButStillCannotGainPrivileges() throws {
        try sandbox.installExamples()
        try startHost()
        for name in ["cecho", "greeter"] {
            let fields = try processStatus(try workerPID(name))
            XCTAssertEqual(fields["Uid"]?.split(separator: " ").first.map(String.init), String(geteuid()), "\(fields)")
            XCTAssertEqual(fields["NoNewPrivs"], "1", "\(name): \(fields)")
        }
    }

    func testAnUnknownUserIsRefusedWithWhere() throws {
        try sandbox.installExamples()
        try settings("{\n  \"user\": \"no-such-user-here\"\n}", for: "libCEchoPlugin")
        let host = try startHost()
        try host.waitForLog(containing: #"libCEchoPlugin.json:2: "user" must name a user of this machine"#)
        XCTAssertEqual(try call("greeter", "GET", "/hello/x").status, 200)
    }

    /// Every descriptor a worker holds, named by what it points at: exactly
    /// stdin, stdout, stderr, the channel (3), the stats block (5), the
    /// listener, epoll, the signalfd, and one socket per open connection.
    /// The library copy is closed once loaded; nothing of the host's (other
    /// workers' channels and libraries, the control socket, the pid file,
    /// the token) leaks in.
    func testAWorkerHoldsOnlyTheDescriptorsItNeeds() throws {
        try sandbox.installExamples()
        try startHost()
        for name in ["cecho", "greeter"] {
            let pid = try workerPID(name)
            let connection = try connect(name)
            XCTAssertEqual(try connection.call("GET", name == "cecho" ? "/ping" : "/hello/x").status, 200)

            let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int32($0) }.sorted()
            var targets: [Int32: String] = [:]
            for fd in fds {
                targets[fd] = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")
            }
            let described = targets.sorted { $0.key < $1.key }.map { "\($0.key) -> \($0.value)" }.joined(separator: "\n")
            XCTAssertEqual(Array(fds.prefix(3)), [0, 1, 2], described)
            XCTAssertTrue(targets[3]?.hasPrefix("socket:") == true, "3 is the channel to the host:\n\(described)")
            XCTAssertTrue(targets[5]?.hasPrefix("/memfd:berth-stats-") == true, "5 is the stats block:\n\(described)")
            let rest = fds.filter { $0 > 2 && $0 != 3 && $0 != 5 }.map { targets[$0]! }
            XCTAssertEqual(rest.filter { $0 == "anon_inode:[eventpoll]" }.count, 1, described)
            XCTAssertEqual(rest.filter { $0 == "anon_inode:[signalfd]" }.count, 1, described)
            // The listener and the one connection.
            XCTAssertEqual(rest.filter { $0.hasPrefix("socket:") }.count, 2, described)
            // Kept so that a worker out of descriptors can still answer 503.
            XCTAssertEqual(rest.filter { $0 == "/dev/null" }.count, 1, described)
            XCTAssertEqual(fds.count, 10, "stdin, stdout, stderr, channel, stats, epoll, signalfd, listener, connection, spare:\n\(described)")
            XCTAssertFalse(described.contains("berth-plugin"), "the library copy is closed after loading:\n\(described)")
        }
    }
}
