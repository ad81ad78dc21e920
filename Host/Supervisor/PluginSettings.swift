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
///       "max_request_bytes": 1048576,    larger requests get 413
///       "idle_timeout": 60,              close connections quiet this long
///       "request_timeout": 10,           408 for a request not whole by then
///       "max_connections": 10000,        per worker; past it, 503
///       "environment": {"KEY": "value"}, added to the worker's environment
///       "config": {...}                  any JSON, handed to the plugin's init
///     }
public struct PluginSettings: Equatable {
    public var instances = 1
    public var drainSeconds: Double
    public var maxRequestBytes: Int
    public var idleTimeout: Double
    public var requestTimeout: Double
    public var maxConnections: Int
    public var environment: [String] = []
    /// JSON text handed to the plugin's init.
    public var config = "{}"

    public init(defaults: Configuration) {
        drainSeconds = defaults.drainSeconds
        maxRequestBytes = defaults.maxRequestBytes
        idleTimeout = defaults.idleTimeout
        requestTimeout = defaults.requestTimeout
        maxConnections = defaults.maxConnections
        instances = defaults.instances
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The settings file that belongs to a plugin file.
    public static func path(forPlugin file: String) -> String {
        String(file.dropLast(3)) + ".json"
    }

    /// Reads the settings beside `pluginFile`; the raw bytes (empty when
    /// there is no file) go into the change-detection hash.
    public static func load(forPlugin pluginFile: String, defaults: Configuration) throws -> (PluginSettings, [UInt8]) {
        let path = path(forPlugin: pluginFile)
        guard Files.exists(path) else { return (PluginSettings(defaults: defaults), []) }
        let bytes = try Files.read(path)
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
            case "max_request_bytes":
                guard let n = value.numberValue, n >= 64, n <= Double(1 << 30) else { throw invalid(key, "must be a number of bytes from 64 to 1073741824") }
                settings.maxRequestBytes = Int(n)
            case "idle_timeout", "request_timeout":
                guard let n = value.numberValue, n >= 0, n <= 86400 else { throw invalid(key, "must be a number of seconds from 0 (no timeout) to 86400") }
                if key == "idle_timeout" { settings.idleTimeout = n } else { settings.requestTimeout = n }
            case "max_connections":
                guard let n = value.numberValue, n >= 1, n <= 1_000_000, n == n.rounded() else { throw invalid(key, "must be a whole number from 1 to 1000000") }
                settings.maxConnections = Int(n)
            case "environment":
                guard case .object(let variables) = value else { throw invalid(key, "must be an object of strings, like {\"LOG_LEVEL\": \"debug\"}") }
                for (name, variable) in variables {
                    guard let text = variable.stringValue, !name.isEmpty, !name.contains("=") else {
                        throw invalid(key, "member \"\(name)\" must be a string, and names cannot contain '='")
                    }
                    settings.environment.append("\(name)=\(text)")
                }
            case "config":
                settings.config = value.serialized()
            default:
                throw invalid(key, "is not a setting; use instances, drain_seconds, max_request_bytes, idle_timeout, request_timeout, max_connections, environment or config")
            }
        }
        return settings
    }

    public static func == (a: PluginSettings, b: PluginSettings) -> Bool {
        a.instances == b.instances && a.drainSeconds == b.drainSeconds && a.maxRequestBytes == b.maxRequestBytes
            && a.idleTimeout == b.idleTimeout && a.requestTimeout == b.requestTimeout && a.maxConnections == b.maxConnections
            && a.environment == b.environment && a.config == b.config
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
