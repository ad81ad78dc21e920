import Foundation
import Glibc
import XCTest

/// The C plugins the reload tests swap in and out, compiled once per test
/// run (in parallel) into a private folder that is removed at exit.
///
/// They all come from one source, `ReloadPlugins.source`, built with
/// different -D flags, so "version 2" differs from "version 1" in exactly
/// what the flags say. The plugin is named "ver" and has, all public:
///   GET /version  {"version":"<VERSION>"}   (also its descriptor's version)
///   GET /config   the config JSON its init received, byte for byte
///   GET /env      {"greeting":"<$VER_GREETING>"} or {"greeting":null}
///   GET /pid      {"pid":<the worker's pid>}
enum ReloadPlugins {
    struct Library {
        let directory: String
        /// Version "1" and version "2" of ver.
        let v1: String
        let v2: String
        /// Version "2", but its descriptor says ABI 2.0.
        let v2ABI2: String
        /// Version "2", whose init logs a reason and returns 1.
        let v2InitFails: String
        /// Version "2", whose init logs "ver 2 init: sleeping 500000 us", then
        /// sleeps 500 ms before succeeding.
        let v2SlowInit: String
        /// TestPlugins.crashy: GET /boom aborts, GET /ok answers.
        let crashy: String
    }

    static let source = TestPlugins.prelude + #"""
    #include <stdio.h>
    #ifndef VERSION
    #define VERSION 1
    #endif
    #ifndef ABI_MAJOR
    #define ABI_MAJOR BERTH_ABI_MAJOR
    #endif
    #define STR2(x) #x
    #define STR(x) STR2(x)

    static char *config_copy;

    static int setup(const berth_host_api *host, const char *config) {
    #ifdef INIT_SLEEP_US
        host->log(BERTH_LOG_INFO, "ver " STR(VERSION) " init: sleeping " STR(INIT_SLEEP_US) " us");
        usleep(INIT_SLEEP_US);
    #endif
    #ifdef INIT_FAIL
        host->log(BERTH_LOG_ERROR, "ver " STR(VERSION) " refuses to start: INIT_FAIL is set");
        return 1;
    #endif
        (void)host;
        config_copy = strdup(config ? config : "null");
        return 0;
    }
    static void version(const berth_request *req, void *u) {
        (void)u;
        answer(req, "{\"version\":\"" STR(VERSION) "\"}");
    }
    static void config(const berth_request *req, void *u) { (void)u; answer(req, config_copy); }
    static void env(const berth_request *req, void *u) {
        (void)u;
        char buffer[512];
        const char *greeting = getenv("VER_GREETING");
        if (greeting) snprintf(buffer, sizeof buffer, "{\"greeting\":\"%s\"}", greeting);
        else snprintf(buffer, sizeof buffer, "{\"greeting\":null}");
        answer(req, buffer);
    }
    static void pid(const berth_request *req, void *u) {
        (void)u;
        char buffer[64];
        snprintf(buffer, sizeof buffer, "{\"pid\":%d}", (int)getpid());
        answer(req, buffer);
    }
    static const berth_route routes[] = {
        {.method = "GET", .pattern = "/version", .handler = version, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/config", .handler = config, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/env", .handler = env, .flags = BERTH_ROUTE_PUBLIC},
        {.method = "GET", .pattern = "/pid", .handler = pid, .flags = BERTH_ROUTE_PUBLIC},
    };
    static const berth_plugin plugin = {
        .magic = BERTH_PLUGIN_MAGIC, .abi_major = ABI_MAJOR, .abi_minor = 0,
        .size = sizeof(berth_plugin), .name = "ver", .version = STR(VERSION),
        .routes = routes, .route_count = sizeof routes / sizeof routes[0], .init = setup,
    };
    const berth_plugin *berth_plugin_entry(void) { return &plugin; }
    """#

    /// Built on first use; every test asks for it (and fails if cc did).
    static let built: Result<Library, Error> = Result { try build() }

    private static func build() throws -> Library {
        var template = Array("/tmp/bt-rl-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp failed: errno \(errno)")
        }
        let directory = String(cString: made)
        builtDirectory = directory
        atexit { ReloadPlugins.removeBuilds() }
        let sourcePath = directory + "/ver.c"
        try source.write(toFile: sourcePath, atomically: false, encoding: .utf8)
        try TestPlugins.crashy.write(toFile: directory + "/crashy.c", atomically: false, encoding: .utf8)
        let jobs: [(output: String, source: String, flags: [String])] = [
            ("ver-1.so", sourcePath, ["-DVERSION=1"]),
            ("ver-2.so", sourcePath, ["-DVERSION=2"]),
            ("ver-2-abi2.so", sourcePath, ["-DVERSION=2", "-DABI_MAJOR=2"]),
            ("ver-2-initfail.so", sourcePath, ["-DVERSION=2", "-DINIT_FAIL"]),
            ("ver-2-slowinit.so", sourcePath, ["-DVERSION=2", "-DINIT_SLEEP_US=500000"]),
            ("crashy.so", directory + "/crashy.c", []),
        ]
        let lock = NSLock()
        var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let job = jobs[index]
            let result = Result { try PluginBuilder.compile(job.source, into: directory + "/" + job.output, flags: job.flags) }
            if case .failure(let error) = result {
                lock.lock()
                failures.append("\(error)")
                lock.unlock()
            }
        }
        if !failures.isEmpty { throw HarnessError(failures.joined(separator: "\n")) }
        return Library(directory: directory, v1: directory + "/ver-1.so", v2: directory + "/ver-2.so",
                       v2ABI2: directory + "/ver-2-abi2.so", v2InitFails: directory + "/ver-2-initfail.so",
                       v2SlowInit: directory + "/ver-2-slowinit.so", crashy: directory + "/crashy.so")
    }

    nonisolated(unsafe) private static var builtDirectory: String?

    private static func removeBuilds() {
        if let builtDirectory { try? FileManager.default.removeItem(atPath: builtDirectory) }
    }

    /// What ver answers on GET /version.
    static func versionLine(_ version: String, id: String = "null") -> String {
        #"{"id":\#(id),"status":200,"data":{"version":"\#(version)"}}"#
    }
}

/// `berth reload` / `berth restart` as run from a shell, and what it printed.
struct ReloadOutcome {
    let status: Int32
    let stdout: String
    let stderr: String
    /// stdout's lines, sorted (the order between kinds is not the point).
    var lines: [String] { stdout.split(separator: "\n").map(String.init).sorted() }
}

/// Base class of the reload tests: the built plugins, the CLI, and process
/// and file facts the assertions need.
class ReloadTestCase: BerthTestCase {
    private(set) var library: ReloadPlugins.Library!

    override func setUpWithError() throws {
        try super.setUpWithError()
        library = try ReloadPlugins.built.get()
    }

    var verFile: String { sandbox.plugins + "/libver.so" }
    var verSettings: String { sandbox.plugins + "/libver.json" }
    var cechoFile: String { sandbox.plugins + "/libCEchoPlugin.so" }

    /// Puts `library` at `libver.so` the way a deploy script would: write
    /// a temporary file beside it, then rename over it.
    func installVer(_ source: String) throws {
        let temporary = sandbox.plugins + "/.libver.so.tmp"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: source, toPath: temporary)
        guard rename(temporary, verFile) == 0 else { throw HarnessError("rename to \(verFile): errno \(errno)") }
    }

    func writeSettings(_ json: String) throws {
        try json.write(toFile: verSettings, atomically: true, encoding: .utf8)
    }

    func runBerth(_ arguments: [String], timeout: Double = 60) throws -> ReloadOutcome {
        let result = try Command.run(BuildProducts.berth, arguments, environment: TestEnvironment.berth, timeout: timeout)
        return ReloadOutcome(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// `berth reload`: returns once the host says the reload is over.
    func reload(json: Bool = false) throws -> ReloadOutcome {
        try runBerth(["reload", "--run-dir", sandbox.run] + (json ? ["--json"] : []))
    }

    func restart(_ name: String) throws -> ReloadOutcome {
        try runBerth(["restart", "--run-dir", sandbox.run, name])
    }

    /// GET /version on a new connection: the raw answer line.
    func verVersion() throws -> String {
        try call("ver", "GET", "/version").line
    }

    /// What `sha256sum` prints for the file.
    func sha256sum(_ path: String) throws -> String {
        let result = try Command.run("/usr/bin/env", ["sha256sum", path])
        guard result.status == 0, let hash = result.stdout.split(separator: " ").first else {
            throw HarnessError("sha256sum \(path) failed: \(result.stderr)")
        }
        return String(hash)
    }

    func inode(_ path: String) -> UInt? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt(info.st_ino) : nil
    }

    /// Live (non-zombie) processes started as `berth worker --file <file>`,
    /// whatever generation or state: the ground truth for "no worker left".
    func workerProcesses(of file: String) -> [pid_t] {
        let needle = Array("worker\0--file\0\(file)\0".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard !ProcessProbe.isGoneOrZombie(pid),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let bytes = [UInt8](data)
            guard bytes.count >= needle.count else { return false }
            return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
        }.sorted()
    }

    func pids(_ entry: [String: Any]) -> [pid_t] {
        ((entry["pids"] as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.int32Value }
    }

    func socketFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: sandbox.run).filter { $0.hasSuffix(".sock") }.sorted()
    }

    /// A host bug this suite found (and that was fixed) showing again.
    func knownBug(_ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTFail("regression: " + message, file: file, line: line)
    }

    /// Sends `signal` to the host and returns once the host has taken it
    /// from its pending set (read it from its signalfd), so the next one
    /// sent is received separately rather than merged with it. Watches
    /// ShdPnd in /proc, not the host's log.
    func signalAndWaitUntilTaken(_ host: BerthHost, _ signal: Int32, timeout: Double = 5) throws {
        XCTAssertEqual(kill(host.pid, signal), 0)
        let bit = UInt64(1) << UInt64(signal - 1)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let text = try? String(contentsOfFile: "/proc/\(host.pid)/status", encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ShdPnd:") }),
                  let pending = UInt64(line.dropFirst("ShdPnd:".count).trimmingCharacters(in: .whitespaces), radix: 16)
            else { throw HarnessError("cannot read the pending signals of \(host.pid)") }
            if pending & bit == 0 { return }
            if Date() >= deadline { throw HarnessError("host \(host.pid) did not take signal \(signal) within \(timeout) s") }
            usleep(500)
        }
    }

    /// The log lines from `mark` on that contain `text`.
    func logLines(_ host: BerthHost, after mark: Int, containing text: String) -> [String] {
        Array(host.logLines.dropFirst(mark)).filter { $0.contains(text) }
    }
}
