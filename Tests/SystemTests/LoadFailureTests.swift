import Foundation
import Glibc
import XCTest

/// Plugins that cannot be loaded: each is refused with a reason in the log
/// and in status, and never stops the good plugins from serving.
final class E2ELoadFailureTests: BerthTestCase {
    /// What the host says when it reaped a worker before reading the reason
    /// the worker sent (a race once lost it: see the assertion below).
    static let lostReason = "while loading the plugin (a crash in its entry or init function?)"

    /// Six broken plugins beside the two good ones.
    private func installBrokenPlugins() throws {
        try sandbox.installExamples()
        try PluginBuilder.buildAll([
            ("libabi2.so", TestPlugins.customHeader(name: "abi2", magic: "BERTH_PLUGIN_MAGIC", abiMajor: 2)),
            ("libmagic.so", TestPlugins.customHeader(name: "magic", magic: "0xDEADBEEFu", abiMajor: 1)),
            ("libnoentry.so", TestPlugins.noEntrySymbol),
            ("libbadname.so", TestPlugins.simple(name: "Bad Name")),
            ("libdup.so", TestPlugins.simple(name: "cecho", version: "9.9.9")),
            ("libinitfail.so", TestPlugins.failingInit(name: "initfail", reason: "DATABASE_URL is not set")),
        ], into: sandbox.plugins)
        var garbage = [UInt8](repeating: 0, count: 4096)
        for i in garbage.indices { garbage[i] = UInt8.random(in: 0...255) }
        garbage[0] = 0 // never the ELF magic by chance
        _ = FileManager.default.createFile(atPath: sandbox.plugins + "/libgarbage.so", contents: Data(garbage))
    }

    private static let brokenFiles = ["libgarbage.so", "libabi2.so", "libmagic.so", "libnoentry.so", "libbadname.so", "libinitfail.so"]

    func testBrokenPluginsAreRefusedAndTheOthersServe() throws {
        try installBrokenPlugins()
        let host = try startHost()
        let ready = try host.waitUntilReady()
        XCTAssertTrue(ready.contains("ready: 2 plugin(s) serving [cecho, greeter], 7 failed"), ready)

        let report = try status()
        XCTAssertEqual(try plugins(in: report).count, 9)
        for file in Self.brokenFiles {
            let entry = try plugin(file: file, in: report)
            XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
            let error = try XCTUnwrap(entry["error"] as? String, "failed plugin without error: \(entry)")
            XCTAssertTrue(error.contains(sandbox.plugins + "/" + file), "the reason must name the file: \(error)")
            XCTAssertTrue(host.logLines.contains { $0.contains("ERROR") && $0.contains("plugin not loaded: \(error)") },
                          "\(file): reason not logged: \(error)\n\(host.logText)")
        }
        // The plugin's own words, tagged with its name, reach the log.
        XCTAssertTrue(host.logText.contains("ERROR [initfail] DATABASE_URL is not set"), host.logText)

        // Same name twice: the file that sorts first (libCEchoPlugin.so)
        // serves it, the other is refused by the host (E2EDuplicateNameTests).
        XCTAssertEqual(try plugin(file: "libCEchoPlugin.so", in: report)["state"] as? String, "running")
        let refused = try plugin(file: "libdup.so", in: report)
        XCTAssertEqual(refused["state"] as? String, "failed", "\(refused)")
        let duplicate = refused["error"] as? String ?? ""
        XCTAssertTrue(duplicate.contains(#"duplicate plugin name "cecho": \#(sandbox.plugins)/libCEchoPlugin.so "#), duplicate)
        XCTAssertTrue(host.logText.contains("plugin not loaded: \(duplicate)"), host.logText)

        // The good plugins serve.
        XCTAssertEqual(try call("greeter", "GET", "/hello/survivor").line,
                       #"{"id":null,"status":200,"data":{"greeting":"Hello, survivor!"}}"#)
        XCTAssertEqual(try call("cecho", "GET", "/ping").line, #"{"id":null,"status":200,"data":{"pong":true}}"#)
        XCTAssertEqual(try call("greeter", "POST", "/echo", token: try sandbox.token(), data: "[3]").status, 200)
        // No socket for plugins that never loaded.
        let sockets = try FileManager.default.contentsOfDirectory(atPath: sandbox.run).filter { $0.hasSuffix(".sock") }.sorted()
        XCTAssertEqual(sockets, ["berth.sock", "cecho.sock", "greeter.sock"])
        // Refused workers exit: soon only the two serving plugins have pids.
        // (No log line marks a refused worker's exit, so status is polled.)
        var withPID: [String] = []
        let settled = try eventually {
            withPID = try self.plugins(in: try self.status()).filter { $0["pid"] is NSNumber }.compactMap { $0["file"] as? String }
            return withPID.count == 2
        }
        XCTAssertTrue(settled, "refused workers still listed with a pid: \(withPID)")
    }

    func testEachLoadFailureSaysWhy() throws {
        try installBrokenPlugins()
        let host = try startHost()
        let report = try status()
        let path = { (file: String) in self.sandbox.plugins + "/" + file }
        let expectations: [(file: String, fragments: [String])] = [
            ("libgarbage.so", ["cannot load \(path("libgarbage.so"))", "is it a shared library built for this machine?"]),
            ("libabi2.so", ["\(path("libabi2.so")) was built for Berth ABI 2.0 but this host speaks ABI 1.2"]),
            ("libmagic.so", ["descriptor magic is 0xdeadbeef, expected 0x48545242"]),
            ("libnoentry.so", ["\(path("libnoentry.so")) has no berth_plugin_entry symbol"]),
            ("libbadname.so", [#"plugin name "Bad Name" is invalid"#, "a-z, 0-9"]),
            ("libinitfail.so", ["plugin initfail init failed with code 1: DATABASE_URL is not set"]),
        ]
        var lost: [String] = []
        for (file, fragments) in expectations {
            let error = try plugin(file: file, in: report)["error"] as? String ?? ""
            if error.contains(Self.lostReason) {
                lost.append(file)
                continue
            }
            for fragment in fragments {
                XCTAssertTrue(error.contains(fragment), "\(file): status error lacks \"\(fragment)\": \(error)")
            }
            XCTAssertTrue(host.logText.contains("plugin not loaded: \(error)"), "\(file): reason not logged\n\(host.logText)")
        }
        // The worker's reason must survive a SIGCHLD handled before its
        // channel message is read.
        XCTAssertEqual(lost, [], "load-failure reason lost (status says \"\(Self.lostReason)\")")
    }

    func testOnlyBrokenPluginsStillGivesAWorkingHost() throws {
        _ = FileManager.default.createFile(atPath: sandbox.plugins + "/libjunk.so", contents: Data("not an ELF file".utf8))
        let host = try startHost()
        XCTAssertTrue(try host.waitUntilReady().contains("ready: 0 plugin(s) serving [], 1 failed"))
        let entry = try plugin(file: "libjunk.so", in: try status())
        XCTAssertEqual(entry["state"] as? String, "failed")
        // SIGTERM still ends it cleanly.
        host.signal(SIGTERM)
        XCTAssertEqual(try host.waitForExit(), 0)
    }

    func testCPluginBuiltFromTheHeaderAloneServes() throws {
        try PluginBuilder.build(TestPlugins.simple(name: "tiny", version: "0.0.1", pong: "{\\\"tiny\\\":1}"),
                                fileName: "libtiny.so", into: sandbox.plugins)
        let host = try startHost()
        try host.waitForLog(containing: "[tiny] serving \(sandbox.socket("tiny")) (version 0.0.1, generation 1, worker ")
        XCTAssertEqual(try call("tiny", "GET", "/ping", id: "1").line, #"{"id":1,"status":200,"data":{"tiny":1}}"#)
        XCTAssertEqual(try plugin("tiny", in: try status())["version"] as? String, "0.0.1")
    }
}
