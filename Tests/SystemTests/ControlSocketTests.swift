import Foundation
import Glibc
import XCTest

/// The control socket: what the host reports about itself and its plugins.
final class E2EControlSocketTests: BerthTestCase {
    func testStatusListsBothPluginsWithLiveWorkers() throws {
        let host = try startExampleHost()
        let report = try status()

        let hostInfo = try XCTUnwrap(report["host"] as? [String: Any], "\(report)")
        XCTAssertEqual(jsonInt(hostInfo["pid"]), Int(host.pid))
        XCTAssertEqual(hostInfo["plugins_dir"] as? String, sandbox.plugins)
        XCTAssertEqual(hostInfo["run_dir"] as? String, sandbox.run)
        XCTAssertNotNil(hostInfo["started_at"] as? String)

        let entries = try plugins(in: report)
        XCTAssertEqual(Set(entries.compactMap { $0["name"] as? String }), ["greeter", "cecho"])
        var pids: Set<pid_t> = []
        for (name, file) in [("greeter", "libGreeterPlugin.so"), ("cecho", "libCEchoPlugin.so")] {
            let entry = try plugin(name, in: report)
            XCTAssertEqual(entry["state"] as? String, "running", "\(entry)")
            XCTAssertEqual(entry["version"] as? String, "1.0.0", "\(entry)")
            XCTAssertEqual(entry["file"] as? String, sandbox.plugins + "/" + file)
            XCTAssertEqual(entry["abi"] as? String, "1.2", "the ABI the plugin was built with")
            XCTAssertEqual(jsonInt(entry["restarts"]), 0)
            XCTAssertEqual(jsonInt(entry["requests"]), 0)
            XCTAssertEqual(jsonInt(entry["errors"]), 0)
            XCTAssertTrue(entry["error"] is NSNull, "\(entry)")
            XCTAssertTrue(entry["last_exit"] is NSNull, "\(entry)")
            XCTAssertNotNil(entry["started_at"] as? String)
            XCTAssertNotNil(entry["mean_ms"] as? NSNumber)
            XCTAssertNotNil(entry["p99_ms"] as? NSNumber)
            // The pid is a real worker process, named after its plugin, and
            // a child of the host.
            let pid = try XCTUnwrap((entry["pid"] as? NSNumber)?.int32Value, "\(entry)")
            XCTAssertNotEqual(pid, host.pid)
            XCTAssertEqual(ProcessProbe.commandName(pid), "berth:\(name)")
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            let afterName = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
            XCTAssertEqual(afterName.count > 1 ? Int32(afterName[1]) : nil, host.pid, "worker's parent: \(stat)")
            pids.insert(pid)
        }
        XCTAssertEqual(pids.count, 2, "each plugin has its own process")
    }

    func testRequestAndErrorCountsGrowWithCalls() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let greeter = try connect("greeter")
        for i in 0..<5 { XCTAssertEqual(try greeter.call("GET", "/hello/\(i)").status, 200) }
        XCTAssertEqual(try greeter.call("GET", "/missing").status, 404)
        XCTAssertEqual(try greeter.call("POST", "/echo", data: "1").status, 401)
        let cecho = try connect("cecho")
        for _ in 0..<3 { XCTAssertEqual(try cecho.call("POST", "/echo", token: token, data: "{}").status, 200) }

        var report = try status()
        // Counts are in place by the time the client has its answer.
        XCTAssertEqual(jsonInt(try plugin("greeter", in: report)["requests"]), 7)
        XCTAssertEqual(jsonInt(try plugin("greeter", in: report)["errors"]), 2)
        XCTAssertEqual(jsonInt(try plugin("cecho", in: report)["requests"]), 3)
        XCTAssertEqual(jsonInt(try plugin("cecho", in: report)["errors"]), 0)

        for _ in 0..<4 { XCTAssertEqual(try cecho.call("GET", "/ping").status, 200) }
        report = try status()
        XCTAssertEqual(jsonInt(try plugin("cecho", in: report)["requests"]), 7)
        XCTAssertEqual(jsonInt(try plugin("greeter", in: report)["requests"]), 7, "other plugin's count moved")
        let mean = try XCTUnwrap(try plugin("cecho", in: report)["mean_ms"] as? NSNumber).doubleValue
        XCTAssertGreaterThan(mean, 0)
        XCTAssertLessThan(mean, 1000)
    }

    func testRoutesListing() throws {
        try startExampleHost()
        let token = try sandbox.token()
        func routes(_ name: String) throws -> Set<String> {
            let response = try call("berth", "GET", "/plugins/\(name)/routes", token: token)
            XCTAssertEqual(response.status, 200, response.line)
            XCTAssertEqual(response.dataObject?["plugin"] as? String, name)
            let list = try XCTUnwrap(response.dataObject?["routes"] as? [[String: Any]], response.line)
            return Set(list.map {
                "\($0["method"] as? String ?? "?") \($0["pattern"] as? String ?? "?") public=\(($0["public"] as? Bool).map(String.init) ?? "?")"
                    + " scope=\($0["scope"] is NSNull ? "none" : $0["scope"] as? String ?? "?")"
            })
        }
        XCTAssertEqual(try routes("greeter"), ["GET /hello/{name} public=true scope=none", "POST /echo public=false scope=none",
                                               "GET /whoami public=false scope=whoami"])
        XCTAssertEqual(try routes("cecho"), ["POST /echo public=false scope=none", "GET /ping public=true scope=none"])
    }

    func testControlSocketRefusesWithoutTokenAndReportsUnknownPlugins() throws {
        try startExampleHost()
        let token = try sandbox.token()
        let control = try connect("berth")

        for path in ["/status", "/plugins/greeter/routes"] {
            let missing = try control.call("GET", path)
            XCTAssertEqual(missing.status, 401, missing.line)
            XCTAssertEqual(missing.errorCode, "unauthorized")
            XCTAssertTrue(missing.errorMessage?.contains("missing auth_token") == true, missing.line)
            let wrong = try control.call("GET", path, token: String(token.reversed()))
            XCTAssertEqual(wrong.status, 401, wrong.line)
            XCTAssertTrue(wrong.errorMessage?.contains("wrong auth_token") == true, wrong.line)
        }

        let unknown = try control.call("GET", "/plugins/nosuch/routes", token: token, id: "\"u\"")
        XCTAssertEqual(unknown.status, 404, unknown.line)
        XCTAssertEqual(unknown.errorCode, "not_found")
        XCTAssertEqual(unknown.rawID, "\"u\"")
        XCTAssertTrue(unknown.errorMessage?.contains("no plugin named nosuch") == true, unknown.line)

        let noRoute = try control.call("GET", "/nothing", token: token)
        XCTAssertEqual(noRoute.status, 404, noRoute.line)
        let wrongMethod = try control.call("POST", "/status", token: token)
        XCTAssertEqual(wrongMethod.status, 405, wrongMethod.line)
        XCTAssertEqual(wrongMethod.errorCode, "method_not_allowed")

        // Still the same connection, still answering.
        XCTAssertEqual(try control.call("GET", "/status", token: token).status, 200)
    }
}
