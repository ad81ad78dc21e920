import Foundation
import Glibc
import XCTest

/// The headline promise: swapping versions under load drops no request.
final class E2EReloadNoDropTests: ReloadTestCase {
    /// A client thread calling GET /version on ver in a loop, keeping score.
    ///
    /// - one-shot: connect, one request, read, close. Never retries: a
    ///   draining worker must answer the first request of every connection
    ///   it accepted.
    /// - persistent: keeps its connection. If a REUSED connection is closed
    ///   before any byte of the answer arrives (a draining worker closing an
    ///   idle keep-alive connection), it retries once on a new connection,
    ///   as an HTTP client would. A fresh connection is never retried.
    private final class LoadClient {
        enum Kind: String { case oneShot = "one-shot", persistent }

        let kind: Kind
        private let socket: String
        private let lock = NSLock()
        private var stopRequested = false
        private(set) var successes = 0
        private(set) var retries = 0
        private(set) var failures: [String] = []
        private(set) var versions: [String: Int] = [:]
        private let done = DispatchSemaphore(value: 0)

        init(_ kind: Kind, socket: String, number: Int) {
            self.kind = kind
            self.socket = socket
            let thread = Thread { [self] in
                defer { done.signal() }
                kind == .oneShot ? runOneShot() : runPersistent()
            }
            thread.name = "\(kind.rawValue)-\(number)"
            thread.start()
        }

        private var isStopped: Bool {
            lock.lock()
            defer { lock.unlock() }
            return stopRequested
        }

        var successCount: Int {
            lock.lock()
            defer { lock.unlock() }
            return successes
        }

        private func record(success version: String?, retried: Bool = false, failure: String? = nil) {
            lock.lock()
            defer { lock.unlock() }
            if retried { retries += 1 }
            if let version {
                successes += 1
                versions[version, default: 0] += 1
            }
            if let failure { failures.append(failure) }
        }

        /// The version in a correct answer to request `id`, or nil.
        private static func version(in response: WireResponse, id: Int) -> String? {
            for version in ["1", "2"] where response.line == ReloadPlugins.versionLine(version, id: String(id)) {
                return version
            }
            return nil
        }

        private func request(_ id: Int) -> String { WireRequest.line("GET", "/version", id: String(id)) }

        private func runOneShot() {
            var id = 0
            while !isStopped {
                id += 1
                do {
                    let connection = try WireConnection(path: socket, timeout: 15)
                    let response = try connection.call(request(id))
                    connection.close()
                    if let version = Self.version(in: response, id: id) {
                        record(success: version)
                    } else {
                        record(success: nil, failure: "one-shot request \(id): unexpected answer \(response.line)")
                    }
                } catch {
                    record(success: nil, failure: "one-shot request \(id) failed: \(error)")
                }
            }
        }

        /// Closed before any byte of the answer: EOF/reset with nothing
        /// read, or the request could not even be written.
        private static func closedBeforeAnswer(_ error: Error) -> Bool {
            switch error as? WireError {
            case .closed(let partial)?: return partial.isEmpty
            case .system(let what, let code)? where what == "send": return code == EPIPE || code == ECONNRESET
            default: return false
            }
        }

        private func runPersistent() {
            var connection: WireConnection?
            var reused = false
            var id = 0
            while !isStopped {
                id += 1
                do {
                    if connection == nil {
                        connection = try WireConnection(path: socket, timeout: 15)
                        reused = false
                    }
                    let response = try connection!.call(request(id))
                    reused = true
                    if let version = Self.version(in: response, id: id) {
                        record(success: version)
                    } else {
                        record(success: nil, failure: "persistent request \(id): unexpected answer \(response.line)")
                        connection = nil
                    }
                } catch {
                    connection = nil
                    guard reused, Self.closedBeforeAnswer(error) else {
                        record(success: nil, failure: "persistent request \(id) failed on a \(reused ? "reused" : "fresh") connection: \(error)")
                        continue
                    }
                    // Once, on a new connection.
                    do {
                        let fresh = try WireConnection(path: socket, timeout: 15)
                        let response = try fresh.call(request(id))
                        if let version = Self.version(in: response, id: id) {
                            record(success: version, retried: true)
                            connection = fresh
                            reused = true
                        } else {
                            record(success: nil, retried: true, failure: "persistent request \(id), retried: unexpected answer \(response.line)")
                        }
                    } catch {
                        record(success: nil, retried: true, failure: "persistent request \(id) failed again on a fresh connection: \(error)")
                    }
                }
            }
        }

        /// Stops the loop and waits for the thread to end.
        func stop() -> Bool {
            lock.lock()
            stopRequested = true
            lock.unlock()
            return done.wait(timeout: .now() + 20) == .success
        }
    }

    /// The drain rules, one connection at a time: the retiring worker
    /// answers the first request of a connection it accepted (even one sent
    /// after the new version took over), and closes a connection that
    /// already had an answer without reading more.
    func testRetiringWorkerAnswersFirstRequestsAndClosesIdleConnections() throws {
        try installVer(library.v1)
        let host = try startHost()
        let oldPID = try workerPID("ver")

        // Answered once by v1, then idle.
        let keepAlive = try connect("ver", timeout: 15)
        XCTAssertEqual(try keepAlive.call(WireRequest.line("GET", "/version", id: "1")).line, ReloadPlugins.versionLine("1", id: "1"))
        // Accepted by the v1 worker (one more socket among its descriptors),
        // nothing sent yet.
        let socketsBefore = socketDescriptors(oldPID)
        let oneShot = try connect("ver", timeout: 15)
        XCTAssertTrue(eventually { self.socketDescriptors(oldPID) == socketsBefore + 1 },
                      "the v1 worker did not accept the connection (\(socketsBefore) sockets before)")

        try installVer(library.v2)
        let mark = host.logMark
        // `berth reload` on another thread: it must not return yet.
        let finished = DispatchSemaphore(value: 0)
        let outcome = ReloadInBackground()
        let run = sandbox.run
        DispatchQueue.global().async {
            outcome.result = Result {
                let result = try Command.run(BuildProducts.berth, ["reload", "--run-dir", run],
                                             environment: TestEnvironment.berth, timeout: 60)
                return ReloadOutcome(status: result.status, stdout: result.stdout, stderr: result.stderr)
            }
            finished.signal()
        }
        try host.waitForLog(containing: "[ver] now serving version 2 (generation 2); the previous generation is draining", after: mark)
        // New connections get v2 at once.
        XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("2"))
        // The idle keep-alive connection is closed, without an answer.
        XCTAssertTrue(try keepAlive.isClosedByServer(), "the retiring worker kept an idle, answered connection open")
        // The reload waits for the accepted connection's first request.
        XCTAssertEqual(finished.wait(timeout: .now() + 0.2), .timedOut, "the reload ended before the old worker drained")
        XCTAssertTrue(ProcessProbe.exists(oldPID))
        XCTAssertEqual(try oneShot.call(WireRequest.line("GET", "/version", id: "2")).line, ReloadPlugins.versionLine("1", id: "2"))
        XCTAssertTrue(try oneShot.isClosedByServer(), "the retiring worker kept the connection open after its answer")

        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "berth reload did not return")
        let result = try XCTUnwrap(outcome.result).get()
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(result.lines, ["updated \(verFile)"])
        XCTAssertFalse(ProcessProbe.exists(oldPID))
    }

    /// Written by the background thread before it signals, read after.
    private final class ReloadInBackground: @unchecked Sendable {
        var result: Result<ReloadOutcome, Error>?
    }

    /// How many sockets the process has open (listener, channel, clients).
    private func socketDescriptors(_ pid: pid_t) -> Int {
        let folder = "/proc/\(pid)/fd"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/" + $0))?.hasPrefix("socket:") == true
        }.count
    }

    func testNoRequestIsDroppedWhileVersionsAlternate() throws {
        try installVer(library.v1)
        try startHost()
        let socket = sandbox.socket("ver")
        let began = Date()

        let clients = (0..<4).map { LoadClient(.oneShot, socket: socket, number: $0) }
            + (0..<4).map { LoadClient(.persistent, socket: socket, number: $0) }
        var stopped = false
        defer { if !stopped { for client in clients { _ = client.stop() } } }
        // Every client is under way before the first swap.
        XCTAssertTrue(eventually(timeout: 10) { clients.allSatisfy { $0.successCount > 0 } }, "clients did not get going")

        var reloadSeconds: [Double] = []
        for round in 1...20 {
            let version = round % 2 == 1 ? "2" : "1"
            try installVer(version == "2" ? library.v2 : library.v1)
            let started = Date()
            let outcome = try reload()
            reloadSeconds.append(Date().timeIntervalSince(started))
            XCTAssertEqual(outcome.status, 0, "round \(round): " + outcome.stdout + outcome.stderr)
            XCTAssertEqual(outcome.lines, ["updated \(verFile)"], "round \(round)")
            // Right after `berth reload` returns, a new connection gets the new version.
            XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine(version), "round \(round)")
        }
        let afterLast = clients.map(\.successCount)
        // Some traffic on the last version too, then stop.
        XCTAssertTrue(eventually(timeout: 10) { zip(clients, afterLast).allSatisfy { $0.successCount > $1 } })
        stopped = true
        for client in clients { XCTAssertTrue(client.stop(), "a \(client.kind.rawValue) client did not stop") }
        let elapsed = Date().timeIntervalSince(began)

        var failures: [String] = []
        for kind in [LoadClient.Kind.oneShot, .persistent] {
            let group = clients.filter { $0.kind == kind }
            let successes = group.map(\.successes).reduce(0, +)
            let retries = group.map(\.retries).reduce(0, +)
            let groupFailures = group.flatMap(\.failures)
            var versions: [String: Int] = [:]
            for client in group { versions.merge(client.versions, uniquingKeysWith: +) }
            print("\(kind.rawValue) clients: \(successes) answered, \(groupFailures.count) failed, \(retries) retried on a reused connection, by version \(versions.sorted { $0.key < $1.key })")
            XCTAssertGreaterThan(successes, 0)
            XCTAssertEqual(groupFailures.count, 0, "\(kind.rawValue) requests failed:\n" + groupFailures.prefix(20).joined(separator: "\n"))
            XCTAssertGreaterThan(versions["1"] ?? 0, 0)
            XCTAssertGreaterThan(versions["2"] ?? 0, 0)
            failures += groupFailures
        }
        let mean = reloadSeconds.reduce(0, +) / Double(reloadSeconds.count)
        print("20 reloads: mean \(String(format: "%.3f", mean)) s, max \(String(format: "%.3f", reloadSeconds.max() ?? 0)) s; test \(String(format: "%.1f", elapsed)) s")
        // A sanitizer slows every process several times; the bound is for normal runs.
        if !ProcessProbe.underSanitizer { XCTAssertLessThan(elapsed, 20) }
        // Only generation 21 is left.
        let entry = try plugin("ver", in: try status())
        XCTAssertEqual(jsonInt(entry["generation"]), 21)
        XCTAssertEqual(workerProcesses(of: verFile), pids(entry))
        XCTAssertEqual(jsonInt(entry["restarts"]), 0)
    }
}
