import Foundation
import Glibc
import XCTest

/// Base class for the end-to-end tests: a fresh sandbox per test, and every
/// host a test starts is stopped in tearDown whatever happened, so no
/// process outlives its test.
class BerthTestCase: XCTestCase {
    private(set) var sandbox: Sandbox!
    /// Every host this test started, in order.
    private(set) var hosts: [BerthHost] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        // A crashing worker must not leave a core file behind (or spend time
        // writing one): the limit is inherited by the host and its workers.
        var noCores = rlimit(rlim_cur: 0, rlim_max: 0)
        getrlimit(Int32(RLIMIT_CORE.rawValue), &noCores)
        noCores.rlim_cur = 0
        setrlimit(Int32(RLIMIT_CORE.rawValue), &noCores)
        sandbox = try Sandbox()
    }

    override func tearDown() {
        for host in hosts { host.terminate() }
        if let run = testRun, run.failureCount + run.unexpectedExceptionCount > 0 {
            for host in hosts {
                print("---- log of berth serve (pid \(host.pid)) ----\n\(host.logText)\n----")
            }
        }
        hosts.removeAll()
        sandbox?.remove()
        super.tearDown()
    }

    /// Starts `berth serve` on the sandbox (the caller installs plugins
    /// first) and, unless told otherwise, waits for its "ready:" line.
    @discardableResult
    func startHost(_ extraArguments: [String] = [], pluginsDirectory: String? = nil,
                   waitUntilReady: Bool = true, environment: [String: String] = [:],
                   executable: String = BuildProducts.berth) throws -> BerthHost {
        let host = try BerthHost(pluginsDirectory: pluginsDirectory ?? sandbox.plugins, runDirectory: sandbox.run,
                                 extraArguments: extraArguments, environment: environment, executable: executable)
        hosts.append(host)
        if waitUntilReady { try host.waitUntilReady() }
        return host
    }

    /// The usual setup: both example plugins, host ready.
    @discardableResult
    func startExampleHost(_ extraArguments: [String] = []) throws -> BerthHost {
        try sandbox.installExamples()
        return try startHost(extraArguments)
    }

    func connect(_ service: String, timeout: Double = 5) throws -> WireConnection {
        try WireConnection(path: sandbox.socket(service), timeout: timeout)
    }

    /// One request on a fresh connection.
    func call(_ service: String, _ method: String, _ path: String, token: String? = nil, data: String? = nil,
              id: String? = nil) throws -> WireResponse {
        try connect(service).call(method, path, token: token, data: data, id: id)
    }

    /// GET /status on the control socket, with the token.
    func status() throws -> [String: Any] {
        let response = try call("berth", "GET", "/status", token: try sandbox.token())
        XCTAssertEqual(response.status, 200, response.line)
        return try XCTUnwrap(response.dataObject, response.line)
    }

    func plugins(in status: [String: Any]) throws -> [[String: Any]] {
        try XCTUnwrap(status["plugins"] as? [[String: Any]], "status has no plugins array: \(status)")
    }

    /// The status entry of the plugin named `name` (a loaded plugin).
    func plugin(_ name: String, in status: [String: Any]) throws -> [String: Any] {
        let matching = try plugins(in: status).filter { $0["name"] as? String == name }
        XCTAssertEqual(matching.count, 1, "expected one status entry named \(name): \(status)")
        return try XCTUnwrap(matching.first)
    }

    /// The status entry for a plugin file (failed plugins have no name).
    func plugin(file fileName: String, in status: [String: Any]) throws -> [String: Any] {
        let path = sandbox.plugins + "/" + fileName
        return try XCTUnwrap(try plugins(in: status).first { $0["file"] as? String == path },
                             "no status entry for \(path): \(status)")
    }

    func workerPID(_ name: String) throws -> pid_t {
        let entry = try plugin(name, in: try status())
        return try XCTUnwrap((entry["pid"] as? NSNumber)?.int32Value, "no pid for \(name): \(entry)")
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes. Only
/// for states that announce themselves nowhere else (no log line).
func eventually(timeout: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(20_000)
    }
}

func jsonInt(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
