import Foundation
import Glibc
import XCTest

/// The host <-> worker channel on real workers. Messages larger than one
/// datagram, or than the socket's buffer, arrive whole: a large config
/// reaches init byte for byte, and a plugin with the loader's maximum of
/// routes loads and serves them. The descriptors a worker inherits are
/// close-on-exec, so a program a plugin runs cannot hold them.
final class E2EChannelTests: BerthTestCase {
    /// FNV-1a, 64 bits: what the plugin below computes over its config.
    private func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    func testA300KiBConfigReachesInitWhole() throws {
        try PluginBuilder.build(ChannelPlugins.configDigest, fileName: "libdigest.so", into: sandbox.plugins)
        // The host hands init the config's bytes as the file has them.
        let blob = String((0..<300 * 1024).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
        let config = #"{"blob":""# + blob + #"","n":1}"#
        try #"{"config": "#.appending(config).appending("}")
            .write(toFile: sandbox.plugins + "/libdigest.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [digest], 0 failed"), host.logText)
        let answer = try call("digest", "GET", "/config")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["length"]), config.utf8.count, answer.line)
        XCTAssertEqual(answer.dataObject?["fnv"] as? String, fnv1a(Array(config.utf8)), answer.line)
    }

    func testTenThousandRoutesLoadAndTheLastOneServes() throws {
        try PluginBuilder.build(ChannelPlugins.manyRoutes(10_000), fileName: "libmany.so", into: sandbox.plugins)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [many], 0 failed"), host.logText)
        let paths = ChannelPlugins.manyRoutePaths(10_000)
        for route in [9_999, 0] {
            let answer = try connect("many", timeout: 60).call(ChannelPlugins.methods[route % 5], paths[route])
            XCTAssertEqual(answer.status, 200, answer.line)
            XCTAssertEqual(jsonInt(answer.dataObject?["route"]), route, answer.line)
        }
    }
}

extension E2EChannelTests {
    func testInheritedDescriptorsAreCloseOnExec() throws {
        try PluginBuilder.build(ChannelPlugins.descriptorFlags, fileName: "libfds.so", into: sandbox.plugins)
        try startHost()
        let answer = try call("fds", "GET", "/flags")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["channel"]), Int(FD_CLOEXEC), answer.line)
        XCTAssertEqual(jsonInt(answer.dataObject?["stats"]), Int(FD_CLOEXEC), answer.line)
    }
}

extension E2EChannelTests {
    /// A worker that forks and then crashes leaves its child holding the
    /// worker's end of the channel, so the channel never reports its end:
    /// the host reads what is there and goes on (restart, status) instead of
    /// waiting for the child to exit.
    func testAChildHoldingACrashedWorkersChannelDoesNotStopTheHost() throws {
        try PluginBuilder.build(ChannelPlugins.forker, fileName: "libforker.so", into: sandbox.plugins)
        let pidFile = sandbox.root + "/child.pid"
        try #"{"environment": {"CHILD_PID_FILE": "\#(pidFile)"}}"#
            .write(toFile: sandbox.plugins + "/libforker.json", atomically: true, encoding: .utf8)
        let host = try startHost()
        let oldPID = try workerPID("forker")
        let mark = host.logMark
        let victim = try connect("forker")
        try victim.write(WireRequest.line("GET", "/fork-and-crash") + "\n")
        defer {
            if let child = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap({ pid_t($0) }) { kill(child, SIGKILL) }
        }
        try host.waitForLog(containing: "[forker] worker \(oldPID) killed by SIGABRT; restarting in", after: mark)
        try host.waitForLog(after: mark, where: { $0.contains("[forker] serving ") && $0.hasSuffix(", restart 1)") },
                            "announcing forker's replacement")
        XCTAssertEqual(try call("forker", "GET", "/ok").status, 200)
        XCTAssertEqual(jsonInt(try plugin("forker", in: try status())["restarts"]), 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pidFile), "the child was never started")
    }
}
