import Foundation
import Glibc
import XCTest

/// What surrounds a reload: the crash-loop limit and `berth restart`,
/// SIGTERM in the middle of a reload, --watch, systemd's notify socket and
/// the control socket's POST /reload.
final class E2EReloadLifecycleTests: ReloadTestCase {
    func testCrashLoopLeavesThePluginDownUntilRestartOrAChange() throws {
        try sandbox.install(library.crashy, as: "libcrashy.so")
        let crashyFile = sandbox.plugins + "/libcrashy.so"
        let host = try startHost(["--crash-limit", "2", "--crash-window", "60"])
        try crashUntilDown(host, restartsBefore: 0)

        let entry = try plugin("crashy", in: try status())
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
        XCTAssertTrue((entry["error"] as? String ?? "").contains("crash loop"), "\(entry)")
        XCTAssertEqual(jsonInt(entry["restarts"]), 3)
        XCTAssertEqual(entry["last_exit"] as? String, "killed by SIGABRT")
        XCTAssertEqual(pids(entry), [])
        XCTAssertEqual(workerProcesses(of: crashyFile), [])

        // The host answers on the plugin's socket meanwhile, on every connection.
        for path in ["/ok", "/boom"] {
            let answer = try call("crashy", "GET", path, id: "\"down\"")
            XCTAssertEqual(answer.status, 503, answer.line)
            XCTAssertEqual(answer.errorCode, "plugin_unavailable", answer.line)
            XCTAssertEqual(answer.rawID, "\"down\"", answer.line)
            XCTAssertTrue((answer.errorMessage ?? "").contains("crash loop"), answer.line)
            XCTAssertTrue((answer.errorMessage ?? "").contains("berth restart crashy"), answer.line)
        }
        // berth restart starts a fresh generation, with a fresh crash count.
        let restarted = try restart("crashy")
        XCTAssertEqual(restarted.status, 0, restarted.stdout + restarted.stderr)
        XCTAssertEqual(restarted.stdout, "updated \(crashyFile)\n")
        XCTAssertEqual(try call("crashy", "GET", "/ok").line, #"{"id":null,"status":200,"data":{"ok":true}}"#)
        var back = try plugin("crashy", in: try status())
        XCTAssertEqual(back["state"] as? String, "running", "\(back)")
        XCTAssertEqual(jsonInt(back["generation"]), 2)
        XCTAssertTrue(back["error"] is NSNull, "\(back)")
        XCTAssertEqual(workerProcesses(of: crashyFile), pids(back))

        // Down again; a reload with the file unchanged retries it
        // (E2EFailedPluginRetryTests), with a fresh crash count.
        try crashUntilDown(host, restartsBefore: 3)
        XCTAssertEqual(try call("crashy", "GET", "/ok").status, 503)
        let retried = try reload()
        XCTAssertEqual(retried.status, 0, retried.stdout + retried.stderr)
        XCTAssertEqual(retried.lines, ["retried \(crashyFile)"])
        XCTAssertEqual(try call("crashy", "GET", "/ok").status, 200)
        XCTAssertEqual(jsonInt(try plugin("crashy", in: try status())["generation"]), 3)

        // Down again; this time a change (its settings file) brings it back.
        try crashUntilDown(host, restartsBefore: 6)
        XCTAssertEqual(try call("crashy", "GET", "/ok").status, 503)
        try #"{"instances": 1}"#.write(toFile: sandbox.plugins + "/libcrashy.json", atomically: true, encoding: .utf8)
        let changed = try reload()
        XCTAssertEqual(changed.status, 0, changed.stdout + changed.stderr)
        XCTAssertEqual(changed.lines, ["updated \(crashyFile)"])
        XCTAssertEqual(try call("crashy", "GET", "/ok").status, 200)
        back = try plugin("crashy", in: try status())
        XCTAssertEqual(back["state"] as? String, "running", "\(back)")
        XCTAssertEqual(jsonInt(back["generation"]), 4)

        // An unknown name is refused.
        let unknown = try restart("nosuch")
        XCTAssertEqual(unknown.status, 1, unknown.stdout + unknown.stderr)
        XCTAssertTrue(unknown.stdout.contains(#""status":404"#), unknown.stdout)
    }

    /// `berth restart NAME` is "a fresh generation of one plugin" (README,
    /// Help): a change waiting in the folder for another plugin is left for
    /// the next reload.
    func testRestartTouchesOnlyTheNamedPlugin() throws {
        try sandbox.install(BuildProducts.cecho)
        try installVer(library.v1)
        try startHost()
        let cechoPID = try workerPID("cecho")
        let verPID = try workerPID("ver")
        try installVer(library.v2)

        let restarted = try restart("cecho")
        XCTAssertEqual(restarted.status, 0, restarted.stdout + restarted.stderr)
        if restarted.stdout.contains(verFile) {
            try knownBug("`berth restart cecho` also reloaded the rest of the folder: \(restarted.stdout.debugDescription)")
        }
        XCTAssertEqual(restarted.stdout, "updated \(cechoFile)\n")
        XCTAssertNotEqual(try workerPID("cecho"), cechoPID)
        XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("1"), "berth restart cecho deployed ver's pending change")
        XCTAssertEqual(try workerPID("ver"), verPID)

        // The next reload picks the change up.
        let reloaded = try reload()
        XCTAssertEqual(reloaded.lines, ["unchanged \(cechoFile)", "updated \(verFile)"])
        XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("2"))
    }

    /// Crashes crashy three times in a row (--crash-limit 2): restarted
    /// twice, then left down.
    private func crashUntilDown(_ host: BerthHost, restartsBefore: Int) throws {
        for round in 1...3 {
            let pid = try workerPID("crashy")
            let mark = host.logMark
            let victim = try connect("crashy")
            try victim.write(WireRequest.line("GET", "/boom") + "\n")
            XCTAssertThrowsError(try victim.readLine())
            if round < 3 {
                try host.waitForLog(containing: "worker \(pid) killed by SIGABRT; restarting in ", after: mark)
                let restart = restartsBefore + round
                try host.waitForLog(after: mark, where: { $0.contains("[crashy] serving ") && $0.hasSuffix(", restart \(restart))") },
                                    "announcing restart \(restart)")
            } else {
                let down = try host.waitForLog(containing: "[crashy] plugin down: crash loop: 3 crashes within 60 s", after: mark)
                XCTAssertTrue(down.contains("berth restart crashy"), down)
            }
        }
    }

    /// SIGTERM as soon as a reload has started: the new worker may not
    /// even have blocked its signals yet.
    func testSIGTERMRightAfterAReloadStartsStopsCleanly() throws {
        try sigtermDuringReload(waitFor: "reloading (SIGHUP)")
    }

    /// SIGTERM while the new version's init runs (500 ms, signals blocked):
    /// the host still stops cleanly once that worker is gone.
    func testSIGTERMWhileTheNewVersionInitializesStopsCleanly() throws {
        try sigtermDuringReload(waitFor: "[ver] ver 2 init: sleeping 500000 us", checkWhileLoading: true)
    }

    private func sigtermDuringReload(waitFor line: String, checkWhileLoading: Bool = false) throws {
        try installVer(library.v1)
        let host = try startHost()
        let oldPID = try workerPID("ver")

        // The new version's init takes 500 ms: the reload is still loading it
        // when SIGTERM arrives.
        try installVer(library.v2SlowInit)
        let mark = host.logMark
        host.signal(SIGHUP)
        try host.waitForLog(containing: line, after: mark)
        if checkWhileLoading {
            // While the new version loads, the old one serves, and says so.
            XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("1"))
            let report = try status()
            XCTAssertEqual((report["host"] as? [String: Any])?["reloading"] as? Bool, true, "\(report)")
            let entry = try plugin("ver", in: report)
            XCTAssertEqual(entry["state"] as? String, "reloading", "\(entry)")
            XCTAssertEqual(entry["version"] as? String, "1", "\(entry)")
            XCTAssertEqual(pids(entry), [oldPID], "\(entry)")
        }
        host.signal(SIGTERM)
        XCTAssertEqual(try host.waitForExit(timeout: 15), 0)
        XCTAssertEqual(host.process.terminationReason, .exit)
        try host.waitForLog(containing: "SIGTERM received", after: mark)
        try host.waitForLog(containing: "[berth] stopped", after: mark)
        // The reload never finished, so it must not claim it did.
        XCTAssertEqual(logLines(host, after: mark, containing: "reload done: 0 added, 1 updated").count, 0, host.logText)

        XCTAssertEqual(try socketFiles(), [], "sockets left behind")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.run + "/berth.pid"), "berth.pid left behind")
        XCTAssertFalse(ProcessProbe.exists(oldPID), "worker \(oldPID) outlived the host")
        XCTAssertEqual(workerProcesses(of: verFile), [], "workers outlived the host")
    }

    func testWatchReloadsAfterAFileIsCopiedIn() throws {
        try sandbox.install(BuildProducts.cecho)
        let host = try startHost(["--watch"])
        let cechoPID = try workerPID("cecho")

        let mark = host.logMark
        try FileManager.default.copyItem(atPath: library.v1, toPath: verFile)
        try host.waitForLog(containing: "reloading (a change in \(sandbox.plugins))", after: mark)
        try host.waitForLog(containing: "reload done: 1 added, 0 updated, 0 removed, 0 failed, 1 unchanged", after: mark)
        XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("1"))
        XCTAssertEqual(try workerPID("cecho"), cechoPID)

        // A change to a served file is picked up the same way.
        let changed = host.logMark
        try installVer(library.v2)
        try host.waitForLog(containing: "reload done: 0 added, 1 updated, 0 removed, 0 failed, 1 unchanged", after: changed)
        XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("2"))
    }

    func testSystemdNotifications() throws {
        let notify = try NotifySocket(path: sandbox.root + "/notify.sock")
        try sandbox.install(BuildProducts.cecho)
        let host = try startHost(environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertEqual(try notify.receive(), "READY=1\nSTATUS=serving")

        try installVer(library.v1)
        let before = MonotonicClock.microseconds()
        let mark = host.logMark
        host.signal(SIGHUP)
        let reloading = try notify.receive()
        let after = MonotonicClock.microseconds()
        let lines = reloading.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "RELOADING=1", reloading)
        XCTAssertEqual(lines.count, 2, reloading)
        let usec = try XCTUnwrap(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil }, reloading)
        XCTAssertGreaterThanOrEqual(usec, before)
        XCTAssertLessThanOrEqual(usec, after)
        XCTAssertEqual(try notify.receive(), "READY=1\nSTATUS=serving")
        try host.waitForLog(containing: "reload done: 1 added", after: mark)
        XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("1"))

        host.signal(SIGTERM)
        XCTAssertEqual(try notify.receive(), "STOPPING=1")
        XCTAssertEqual(try host.waitForExit(), 0)
        XCTAssertNil(notify.pending(), "a message after STOPPING=1")
    }

    /// A reload asked for during another runs after it. systemd must not
    /// be told READY=1 while that second reload runs without being told
    /// RELOADING=1 for it: whenever READY=1 arrives while status says the
    /// host is reloading, a RELOADING=1 must already follow it.
    func testSystemdIsNotToldReadyWhileAQueuedReloadRuns() throws {
        let notify = try NotifySocket(path: sandbox.root + "/notify.sock")
        try installVer(library.v1)
        let host = try startHost(environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertEqual(try notify.receive(), "READY=1\nSTATUS=serving")

        // Reload 1 loads a version whose init takes 500 ms ...
        try installVer(library.v2SlowInit)
        let mark = host.logMark
        host.signal(SIGHUP)
        try host.waitForLog(containing: "[ver] ver 2 init: sleeping 500000 us", after: mark)
        // ... meanwhile the settings change and another SIGHUP comes: one
        // more reload (another 500 ms init) has to run after it.
        try writeSettings(#"{"config": {"run": 2}}"#)
        host.signal(SIGHUP)

        var messages: [String] = []
        var settled = false
        var readyDuringReload: [String]?
        while !settled && messages.count < 12 {
            let message = try notify.receive()
            messages.append(message)
            guard message.hasPrefix("READY=1") else { continue }
            let report = try status()
            let reloading = (report["host"] as? [String: Any])?["reloading"] as? Bool
            if reloading == false {
                // Both reloads applied (on a slow machine the second SIGHUP
                // may only have come after the first reload ended).
                settled = jsonInt(try plugin("ver", in: report)["generation"]) == 3
            } else if let next = notify.pending() {
                messages.append(next)
                XCTAssertTrue(next.hasPrefix("RELOADING=1"), "READY=1 during a reload, followed by \(next.debugDescription)")
            } else if readyDuringReload == nil {
                readyDuringReload = messages
            }
        }
        XCTAssertTrue(settled, "no READY=1 once the reloads were over: \(messages)")
        XCTAssertEqual(try call("ver", "GET", "/config").line, #"{"id":null,"status":200,"data":{"run": 2}}"#)
        XCTAssertEqual(jsonInt(try plugin("ver", in: try status())["generation"]), 3)
        XCTAssertNil(notify.pending(), "messages after the last READY=1: \(messages)")
        if let readyDuringReload {
            try knownBug("systemd was told READY=1 while a queued reload still ran, with no RELOADING=1 for it; messages: \(readyDuringReload)")
        }
    }

    func testControlPOSTReloadAnswersTheReport() throws {
        try sandbox.install(BuildProducts.cecho)
        let host = try startHost()
        let token = try sandbox.token()

        // No token, or a wrong one: refused before anything happens.
        let noToken = try call("berth", "POST", "/reload")
        XCTAssertEqual(noToken.status, 401, noToken.line)
        XCTAssertEqual(noToken.errorCode, "unauthorized", noToken.line)
        let wrongToken = try call("berth", "POST", "/reload", token: String(repeating: "0", count: token.count))
        XCTAssertEqual(wrongToken.status, 401, wrongToken.line)

        try installVer(library.v1)
        let mark = host.logMark
        let connection = try connect("berth", timeout: 30)
        let answer = try connection.call("POST", "/reload", token: token, id: "\"r1\"")
        XCTAssertEqual(answer.status, 200, answer.line)
        XCTAssertEqual(answer.rawID, "\"r1\"")
        let report = try XCTUnwrap(answer.dataObject, answer.line)
        XCTAssertEqual(report["added"] as? [String], [verFile], answer.line)
        XCTAssertEqual(report["updated"] as? [String], [], answer.line)
        XCTAssertEqual(report["removed"] as? [String], [], answer.line)
        XCTAssertEqual((report["failed"] as? [Any])?.count, 0, answer.line)
        XCTAssertEqual(report["unchanged"] as? [String], [cechoFile], answer.line)
        XCTAssertEqual(Set(report.keys), ["added", "updated", "removed", "failed", "unchanged", "retried"])
        // The answer came once the reload was over: ver serves now.
        XCTAssertEqual(try verVersion(), ReloadPlugins.versionLine("1"))
        try host.waitForLog(containing: "reload done: 1 added", after: mark)
        // Only the authorized request reloaded (its log lines are all in
        // once its "reload done" is).
        XCTAssertEqual(logLines(host, after: 0, containing: "reloading (POST /reload)").count, 1, host.logText)

        // A failure is in the report with its file and reason; the
        // connection stays usable for the next request.
        try installVer(library.v2InitFails)
        let failed = try connection.call("POST", "/reload", token: token)
        XCTAssertEqual(failed.status, 200, failed.line)
        let failures = try XCTUnwrap(failed.dataObject?["failed"] as? [[String: Any]], failed.line)
        XCTAssertEqual(failures.count, 1, failed.line)
        XCTAssertEqual(failures.first?["file"] as? String, verFile)
        XCTAssertTrue((failures.first?["reason"] as? String ?? "").contains("init failed with code 1"), failed.line)

        // `berth reload --json` prints that same raw response.
        let json = try reload(json: true)
        XCTAssertEqual(json.status, 1, json.stdout + json.stderr)
        let printed = try WireResponse(line: json.stdout.trimmingCharacters(in: .newlines))
        XCTAssertEqual(printed.status, 200)
        let printedFailures = try XCTUnwrap(printed.dataObject?["failed"] as? [[String: Any]], printed.line)
        XCTAssertEqual(printedFailures.first?["file"] as? String, verFile)
        XCTAssertEqual(printed.dataObject?["unchanged"] as? [String], [cechoFile])
    }
}

/// The listening end of $NOTIFY_SOCKET, as systemd would bind it.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw WireError.system("socket", errno) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            Glibc.close(fd)
            throw WireError.system("bind(\(path))", code)
        }
    }

    deinit { Glibc.close(fd) }

    /// The next datagram; throws after 10 s without one.
    func receive() throws -> String {
        guard let message = read(flags: 0) else { throw HarnessError("no notify message within 10 s") }
        return message
    }

    /// A datagram already waiting, if any.
    func pending() -> String? { read(flags: Int32(MSG_DONTWAIT)) }

    private func read(flags: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, flags) }
            if n >= 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
            if errno != EINTR { return nil }
        }
    }
}

enum MonotonicClock {
    static func microseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}
