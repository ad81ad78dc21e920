import BerthChannel
import BerthJSON
import BerthPOSIX
import BerthWire

/// A plugin's settings: `<file>.json` beside `<file>.so` in the plugins
/// folder (`plugins.d/libgreeter.json` for `plugins.d/libgreeter.so`).
/// Every member is optional; absent ones take the host's defaults
/// (`berth serve` flags).
///
///     {
///       "instances": 2,                  worker processes sharing the socket
///       "drain_seconds": 10,             bound on finishing in-flight requests
///       "init_timeout_seconds": 30,      bound on loading the library and init
///       "max_request_bytes": 1048576,    larger requests get 413
///       "idle_timeout": 60,              close connections quiet this long
///       "read_timeout": 10,              408 for a request not whole by then
///       "max_connections": 10000,        per worker; past it, 503
///       "max_buffered_input_mb": 64,     unfinished requests, all connections; past it, 503
///       "environment": {"KEY": "value"}, added to the worker's environment
///       "config": {...},                 any JSON, handed to the plugin's init
///       "request_timeout_seconds": 30,   a handler running longer: 504, worker replaced
///       "route_timeouts": {"GET /slow": 2},  the same for one route
///       "limits": {"memory_mb": 256, "cpu_seconds": 3600, "open_files": 1024},
///       "user": "nobody", "group": "nogroup"   who the worker runs as (root hosts)
///       "allowed_uids": [1000]           only these uids may connect
///     }
public struct PluginSettings: Equatable {
    public var instances = 1
    public var drainSeconds: Double
    public var initTimeoutSeconds: Double
    public var maxRequestBytes: Int
    public var idleTimeout: Double
    public var readTimeout: Double
    public var maxConnections: Int
    /// nil: the default (LineServer.Limits.maxBufferedInputMB).
    public var maxBufferedInputMB: Int?
    /// 0: no limit.
    public var requestTimeoutSeconds: Double
    /// "GET /slow" (method and pattern as the plugin declares them) to
    /// seconds; checked against the plugin's routes once it has loaded.
    public var routeTimeouts: [String: Double] = [:]
    public var limits = Limits()
    /// Who the worker runs as, resolved from `user` and `group` (a user's
    /// primary group unless `group` is given). nil: the host's own.
    public var uid: UInt32?
    public var gid: UInt32?
    /// The settings' words for them, for messages.
    var runAs = ""

    /// Per-worker resource limits; a worker that breaks one is killed and
    /// restarted like a crashed one. nil: no limit.
    public struct Limits: Equatable {
        /// Resident size, watched by the host (Supervisor+Limits).
        public var memoryMB: Int?
        /// CPU time over the worker's life (RLIMIT_CPU, set by the worker).
        public var cpuSeconds: Int?
        /// Open descriptors (RLIMIT_NOFILE, set by the worker; the host
        /// stops a worker that has them all in use).
        public var openFiles: Int?
        public init() {}
    }
    public var environment: [String] = []
    /// JSON text handed to the plugin's init: the settings file's bytes of
    /// the member, unchanged.
    public var config = "{}"
    /// Only clients with these uids may connect (SO_PEERCRED); nil: any
    /// client the socket's file mode lets in.
    public var allowedUIDs: [UInt32]?

    public init(defaults: Configuration) {
        drainSeconds = defaults.drainSeconds
        initTimeoutSeconds = defaults.initTimeoutSeconds
        maxRequestBytes = defaults.maxRequestBytes
        idleTimeout = defaults.idleTimeout
        readTimeout = defaults.readTimeout
        maxConnections = defaults.maxConnections
        maxBufferedInputMB = defaults.maxBufferedInputMB
        instances = defaults.instances
        requestTimeoutSeconds = defaults.requestTimeoutSeconds
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The settings file that belongs to a plugin file.
    public static func path(forPlugin file: String) -> String {
        String(file.dropLast(3)) + ".json"
    }

    /// The largest settings file: the channel's limit for the config it
    /// carries (ChannelProtocol.maximumMessageBytes).
    static let maximumFileBytes = 64 << 20

    /// Reads the settings beside `pluginFile`; the raw bytes (empty when
    /// there is no file) go into the change-detection hash.
    public static func load(forPlugin pluginFile: String, defaults: Configuration) throws -> (PluginSettings, [UInt8]) {
        let path = path(forPlugin: pluginFile)
        guard Files.exists(path) else { return (PluginSettings(defaults: defaults), []) }
        let bytes = try Files.readRegularFile(path, maximumBytes: maximumFileBytes,
                                               whenTooLarge: "keep config small and have init read large data from a file")
        return (try parse(bytes, path: path, defaults: defaults), bytes)
    }

    static func parse(_ bytes: [UInt8], path: String, defaults: Configuration) throws -> PluginSettings {
        let document: JSONValue
        do {
            document = try JSONValue.parseOrExplain(bytes)
        } catch let error as JSONValue.SyntaxError {
            throw Invalid(description: "\(path):\(error.line):\(error.column): \(error.reason)")
        }
        func invalid(_ key: String, _ reason: String) -> Invalid {
            Invalid(description: "\(path):\(line(of: key, in: bytes)): \"\(key)\" \(reason)")
        }
        guard case .object(let members) = document else {
            throw Invalid(description: "\(path):1: settings must be a JSON object like {\"instances\": 2}")
        }
        var settings = PluginSettings(defaults: defaults)
        for (key, value) in members {
            switch key {
            case "instances":
                guard let n = value.numberValue, n >= 1, n <= 64, n == n.rounded() else { throw invalid(key, "must be a whole number from 1 to 64") }
                settings.instances = Int(n)
            case "drain_seconds":
                guard let n = value.numberValue, n >= 0, n <= 3600 else { throw invalid(key, "must be a number of seconds from 0 to 3600") }
                settings.drainSeconds = n
            case "init_timeout_seconds":
                guard let n = value.numberValue, n >= 0.1, n <= 3600 else { throw invalid(key, "must be a number of seconds from 0.1 to 3600") }
                settings.initTimeoutSeconds = n
            case "max_request_bytes":
                guard let n = value.numberValue, n >= 64, n <= Double(1 << 30) else { throw invalid(key, "must be a number of bytes from 64 to 1073741824") }
                settings.maxRequestBytes = Int(n)
            case "idle_timeout", "read_timeout":
                guard let n = value.numberValue, n >= 0, n <= 86400 else { throw invalid(key, "must be a number of seconds from 0 (no timeout) to 86400") }
                if key == "idle_timeout" { settings.idleTimeout = n } else { settings.readTimeout = n }
            case "max_connections":
                guard let n = value.numberValue, n >= 1, n <= 1_000_000, n == n.rounded() else { throw invalid(key, "must be a whole number from 1 to 1000000") }
                settings.maxConnections = Int(n)
            case "max_buffered_input_mb":
                guard let n = value.numberValue, n >= 1, n <= Double(1 << 20), n == n.rounded() else { throw invalid(key, "must be a whole number of MiB from 1 to 1048576") }
                settings.maxBufferedInputMB = Int(n)
            case "environment":
                guard case .object(let variables) = value else { throw invalid(key, "must be an object of strings, like {\"LOG_LEVEL\": \"debug\"}") }
                for (name, variable) in variables {
                    guard let text = variable.stringValue, !name.isEmpty, !name.contains("=") else {
                        throw invalid(key, "member \"\(name)\" must be a string, and names cannot contain '='")
                    }
                    settings.environment.append("\(name)=\(text)")
                }
            case "config":
                // As written: rebuilding it from `value` would round its numbers.
                settings.config = JSONObjectMembers.rawValue(ofLast: key, in: bytes) ?? value.serialized()
            case "request_timeout_seconds":
                guard let n = value.numberValue, n >= 0, n <= 86400 else { throw invalid(key, "must be a number of seconds from 0 (no limit) to 86400") }
                settings.requestTimeoutSeconds = n
            case "route_timeouts":
                guard case .object(let routes) = value else { throw invalid(key, "must be an object like {\"GET /slow\": 2}") }
                for (route, limit) in routes {
                    guard let n = limit.numberValue, n >= 0, n <= 86400 else {
                        throw invalid(key, "member \"\(route)\" must be a number of seconds from 0 (no limit) to 86400")
                    }
                    settings.routeTimeouts[route] = n
                }
            case "limits":
                guard case .object(let members) = value else { throw invalid(key, "must be an object like {\"memory_mb\": 256}") }
                for (name, limit) in members {
                    let ranges = ["memory_mb": 16...(1 << 20), "cpu_seconds": 1...(1 << 30), "open_files": 16...(1 << 20)]
                    guard let range = ranges[name] else {
                        throw invalid(key, "member \"\(name)\" is not a limit; use memory_mb, cpu_seconds or open_files")
                    }
                    guard let n = limit.numberValue, n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
                        throw invalid(key, "member \"\(name)\" must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                    }
                    switch name {
                    case "memory_mb": settings.limits.memoryMB = Int(n)
                    case "cpu_seconds": settings.limits.cpuSeconds = Int(n)
                    default: settings.limits.openFiles = Int(n)
                    }
                }
            case "user":
                guard let name = value.stringValue, let user = Credentials.user(name) else {
                    throw invalid(key, "must name a user of this machine (a name from /etc/passwd, or a number)")
                }
                settings.uid = user.uid
                settings.gid = settings.gid ?? user.gid
                settings.runAs = "user \(name)" + settings.runAs
            case "group":
                guard let name = value.stringValue, let gid = Credentials.group(name) else {
                    throw invalid(key, "must name a group of this machine (a name from /etc/group, or a number)")
                }
                // The group wins over the user's primary group, in either order.
                settings.gid = gid
                settings.runAs += " group \(name)"
            case "allowed_uids":
                let uids = value.arrayValue?.compactMap { $0.numberValue }.filter { $0 >= 0 && $0 < Double(UInt32.max) && $0 == $0.rounded() }
                guard let uids, uids.count == value.arrayValue?.count, !uids.isEmpty else {
                    throw invalid(key, "must be a non-empty array of numeric uids, like [0, 1000] (`id -u NAME` prints one); leave it out to let in every uid the socket's mode allows")
                }
                settings.allowedUIDs = uids.map { UInt32($0) }
            default:
                throw invalid(key, "is not a setting; use instances, drain_seconds, init_timeout_seconds, max_request_bytes, idle_timeout, read_timeout, max_connections, environment, config, request_timeout_seconds, route_timeouts, limits, user, group or allowed_uids")
            }
        }
        if settings.uid != nil && settings.gid == nil {
            throw invalid("user", "has no entry in /etc/passwd to take a group from; give \"group\" too")
        }
        return settings
    }

    /// The worker's setup message: the config for init, the limits it
    /// applies itself, who it becomes.
    var workerSetup: WorkerSetup {
        WorkerSetup(config: Array(config.utf8), cpuSeconds: limits.cpuSeconds, openFiles: limits.openFiles,
                    credentials: uid == nil && gid == nil ? nil
                        : WorkerCredentials(uid: uid, gid: gid, settingsText: runAs.trimmingPrefix(" ").description))
    }

    /// What the worker's server allows each client, for its serve message.
    var clientLimits: ClientLimits {
        ClientLimits(maxRequestBytes: maxRequestBytes, idleTimeout: idleTimeout, readTimeout: readTimeout,
                     maxConnections: maxConnections, maxBufferedInputMB: maxBufferedInputMB)
    }

    public static func == (a: PluginSettings, b: PluginSettings) -> Bool {
        a.instances == b.instances && a.drainSeconds == b.drainSeconds && a.initTimeoutSeconds == b.initTimeoutSeconds && a.maxRequestBytes == b.maxRequestBytes
            && a.environment == b.environment && a.config == b.config && a.allowedUIDs == b.allowedUIDs
            && a.idleTimeout == b.idleTimeout && a.readTimeout == b.readTimeout && a.maxConnections == b.maxConnections
            && a.maxBufferedInputMB == b.maxBufferedInputMB
            && a.requestTimeoutSeconds == b.requestTimeoutSeconds && a.routeTimeouts == b.routeTimeouts
            && a.limits == b.limits && a.uid == b.uid && a.gid == b.gid
    }

    /// Seconds as the worker's whole milliseconds; a limit that is not 0
    /// stays at least 1 ms.
    static func milliseconds(_ seconds: Double) -> Int {
        seconds <= 0 ? 0 : max(1, Int((seconds * 1000).rounded()))
    }

    /// What the worker needs to resolve each route's limit (see the
    /// worker's Watchdog.prepare).
    var handlerTimeouts: HandlerTimeouts {
        HandlerTimeouts(requestMilliseconds: UInt32(Self.milliseconds(requestTimeoutSeconds)),
                        routeMilliseconds: routeTimeouts.sorted { $0.key < $1.key }.map {
                            .init(route: $0.key, milliseconds: UInt32(Self.milliseconds($0.value)))
                        })
    }

    /// The line where `"key"` first appears, for pointing at a bad value.
    private static func line(of key: String, in bytes: [UInt8]) -> Int {
        let needle = Array("\"\(key)\"".utf8)
        guard needle.count <= bytes.count else { return 1 }
        for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return bytes[..<start].filter { $0 == 0x0A }.count + 1
        }
        return 1
    }
}
