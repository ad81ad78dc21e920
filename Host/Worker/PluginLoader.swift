import BerthAuth
import BerthPOSIX
import BerthRouter
import BerthWire
import CBerth
import CBerthShims
import Glibc

/// A plugin loaded into this worker and checked against the ABI.
struct LoadedPlugin {
    /// A class, so routing hands out a reference instead of copying it.
    final class RouteEntry: AdmissionRoute {
        let method: HTTPMethod
        let pattern: RoutePattern
        let handler: berth_handler_fn
        let userData: UnsafeMutableRawPointer?
        let isPublic: Bool
        /// The token scope the route needs (nil: any valid token).
        let scope: String?
        /// That scope's bit in this plugin's numbering (0: any valid token).
        let requiredScopes: TokenTable.Scopes
        /// The route's own handler time limit in milliseconds (0: the
        /// plugin's setting).
        let timeoutMilliseconds: UInt32
        /// Parameter names as C strings, kept for the life of the process.
        let parameterNames: [berth_str]
        /// "GET /hello/{name}", made once for messages about this route.
        let label: String
        /// The route's time limit for the watchdog, set once before serving
        /// (nil: no limit).
        var watchdog: UnsafePointer<berth_watchdog_route>?

        var scopeName: String? { scope }

        init(method: HTTPMethod, pattern: RoutePattern, handler: @escaping berth_handler_fn, userData: UnsafeMutableRawPointer?,
             isPublic: Bool, scope: String?, requiredScopes: TokenTable.Scopes, timeoutMilliseconds: UInt32,
             parameterNames: [berth_str], label: String) {
            self.method = method
            self.pattern = pattern
            self.handler = handler
            self.userData = userData
            self.isPublic = isPublic
            self.scope = scope
            self.requiredScopes = requiredScopes
            self.timeoutMilliseconds = timeoutMilliseconds
            self.parameterNames = parameterNames
            self.label = label
        }
    }

    let descriptor: UnsafePointer<berth_plugin>
    let name: String
    let version: String
    let abi: String
    let routes: [RouteEntry]
    /// The routes as requests find them, built before the worker reports
    /// the plugin loaded: a plugin is only said to serve once it can.
    let router: Router<RouteEntry>
    /// The distinct scopes the routes need; scope i has bit 1 << i.
    let scopeNames: [String]

    /// A token's scopes as this plugin numbers them.
    func scopeBit(_ name: String) -> TokenTable.Scopes? {
        scopeNames.firstIndex(of: name).map { 1 << UInt64($0) }
    }
}

/// Opens a plugin library and checks it before calling anything beyond the
/// entry function: magic, major ABI version, descriptor size, name, routes.
public enum PluginLoader {
    /// The ABI this host speaks, as "major.minor" (for `berth --version`).
    public static let hostABI = "\(BERTH_ABI_MAJOR).\(BERTH_ABI_MINOR)"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The most routes a plugin may declare (docs/plugins.md).
    static let maximumRoutes = 10_000

    /// ABI 1.0's descriptor ends after `shutdown`.
    static let minimumDescriptorSize = MemoryLayout<berth_plugin>.offset(of: \berth_plugin.shutdown)! + MemoryLayout<berth_shutdown_fn?>.size

    static func load(libraryPath: String, file: String) throws -> LoadedPlugin {
        guard let handle = dlopen(libraryPath, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw Failure(description: "cannot load \(file): \(reason.replacing(libraryPath, with: file)); is it a shared library built for this machine?")
        }
        // Never dlclose: the Swift runtime keeps pointers into loaded images.
        guard let symbol = dlsym(handle, BERTH_ENTRY_SYMBOL) else {
            throw Failure(description: "\(file) has no \(BERTH_ENTRY_SYMBOL) symbol: not a Berth plugin; export it as SDK/C/include/berth.h describes")
        }
        typealias Entry = @convention(c) () -> UnsafeRawPointer?
        let entry = unsafeBitCast(symbol, to: Entry.self)
        guard let raw = entry() else {
            throw Failure(description: "\(file): \(BERTH_ENTRY_SYMBOL)() returned NULL instead of a descriptor")
        }
        // Read the fixed header fields one by one: until magic and version
        // check out, nothing else about the struct can be trusted.
        let magic = raw.load(as: UInt32.self)
        guard magic == BERTH_PLUGIN_MAGIC else {
            throw Failure(description: "\(file): descriptor magic is 0x\(String(magic, radix: 16)), expected 0x\(String(BERTH_PLUGIN_MAGIC, radix: 16)); not a Berth plugin descriptor")
        }
        let major = raw.load(fromByteOffset: 4, as: UInt16.self)
        let minor = raw.load(fromByteOffset: 6, as: UInt16.self)
        guard major == BERTH_ABI_MAJOR else {
            throw Failure(description: "\(file) was built for Berth ABI \(major).\(minor) but this host speaks ABI \(BERTH_ABI_MAJOR).\(BERTH_ABI_MINOR): rebuild the plugin against this host's SDK/C/include/berth.h")
        }
        let size = Int(raw.load(fromByteOffset: 8, as: UInt32.self))
        guard size >= minimumDescriptorSize else {
            throw Failure(description: "\(file): descriptor size \(size) is smaller than ABI \(major).0's \(minimumDescriptorSize) bytes; rebuild the plugin against berth.h")
        }
        let descriptor = raw.assumingMemoryBound(to: berth_plugin.self)
        let plugin = descriptor.pointee
        let name = plugin.name.map { String(cString: $0) } ?? ""
        try validateName(name, file: file)
        let version = plugin.version.map { String(cString: $0) } ?? ""
        // Before anything is sized by it: a count of 2^40 must be a message,
        // not an allocation that aborts the worker.
        guard plugin.route_count <= maximumRoutes else {
            throw Failure(description: "\(file): route_count is \(plugin.route_count); the limit is \(maximumRoutes) routes per plugin: set route_count to the number of entries in the route table, or split the plugin")
        }
        let policies = try readPolicies(raw, size: size, plugin, file: file)
        let (routes, scopeNames) = try readRoutes(plugin, policies: policies, file: file)
        // Before init: a plugin whose routes clash is refused without
        // running anything of it beyond its entry function.
        let router: Router<LoadedPlugin.RouteEntry>
        do {
            router = try Router(routes.map { ($0.method, $0.pattern, $0) })
        } catch {
            throw Failure(description: "\(file): plugin \(name): \(error)")
        }
        return LoadedPlugin(descriptor: descriptor, name: name, version: version, abi: "\(major).\(minor)", routes: routes,
                            router: router, scopeNames: scopeNames)
    }

    static func validateName(_ name: String, file: String) throws {
        let allowed = name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
        guard allowed, (1...64).contains(name.utf8.count) else {
            throw Failure(description: "\(file): plugin name \"\(name)\" is invalid: use 1 to 64 characters from a-z, 0-9, '_' and '-' (it names the socket)")
        }
    }

    /// ABI 1.1's route policies, one per route (all defaults for a 1.0
    /// plugin, whose descriptor ends before the table's fields).
    private static func readPolicies(_ raw: UnsafeRawPointer, size: Int, _ plugin: berth_plugin, file: String) throws
        -> [(scope: String?, timeoutMilliseconds: UInt32)] {
        let none = Array(repeating: (scope: String?.none, timeoutMilliseconds: UInt32(0)), count: plugin.route_count)
        let end = MemoryLayout<berth_plugin>.offset(of: \berth_plugin.route_policy_size)! + MemoryLayout<UInt32>.size
        guard size >= end, let table = plugin.route_policies else { return none }
        // Fields a newer plugin appends to a policy are skipped by stride;
        // a table older than 1.1's layout cannot be read safely.
        let stride = Int(plugin.route_policy_size)
        guard stride >= MemoryLayout<berth_route_policy>.size else {
            throw Failure(description: "\(file): route_policy_size \(stride) is smaller than berth_route_policy (\(MemoryLayout<berth_route_policy>.size) bytes); set it with BERTH_ROUTE_POLICIES(table)")
        }
        let policies = (0..<plugin.route_count).map { i in
            let policy = (UnsafeRawPointer(table) + i * stride).load(as: berth_route_policy.self)
            let scope = policy.scope.map { String(cString: $0) }
            return (scope: scope?.isEmpty == false ? scope : nil, timeoutMilliseconds: policy.timeout_ms)
        }
        for (i, policy) in policies.enumerated() {
            if let scope = policy.scope, !TokenFile.isValidScope(scope) {
                throw Failure(description: "\(file): route \(i) needs scope \"\(scope)\", which no token can carry: use 1 to \(TokenFile.maximumScopeLength) letters, digits, '_', '-', '.' or ':'")
            }
        }
        return policies
    }

    private static func readRoutes(_ plugin: berth_plugin, policies: [(scope: String?, timeoutMilliseconds: UInt32)],
                                   file: String) throws -> ([LoadedPlugin.RouteEntry], [String]) {
        guard plugin.route_count > 0 else { return ([], []) }
        // route_count was checked against maximumRoutes in load().
        guard let table = plugin.routes else {
            throw Failure(description: "\(file): route_count is \(plugin.route_count) but routes is NULL: point routes at the route table")
        }
        var entries: [LoadedPlugin.RouteEntry] = []
        var scopeNames: [String] = []
        for i in 0..<plugin.route_count {
            let route = table[i]
            let methodName = route.method.map { String(cString: $0) } ?? "(null)"
            let patternText = route.pattern.map { String(cString: $0) } ?? "(null)"
            guard let method = HTTPMethod(methodName), methodName == method.description else {
                throw Failure(description: "\(file): route \(i) has method \"\(methodName)\"; use one of \(HTTPMethod.allNames)")
            }
            let pattern: RoutePattern
            do { pattern = try RoutePattern(patternText) } catch { throw Failure(description: "\(file): \(error)") }
            guard let handler = route.handler else {
                throw Failure(description: "\(file): route \(methodName) \(patternText) has no handler")
            }
            let names = pattern.parameterNames.map { name -> berth_str in
                berth_str(ptr: UnsafePointer(strdup(name)), len: name.utf8.count)
            }
            let isPublic = route.flags & BERTH_ROUTE_PUBLIC != 0
            // A public route needs no token, so its scope is moot.
            let scope = isPublic ? nil : policies[i].scope
            var bit: TokenTable.Scopes = 0
            if let scope {
                if !scopeNames.contains(scope) { scopeNames.append(scope) }
                guard scopeNames.count <= TokenTable.assignableBits else {
                    throw Failure(description: "\(file): the routes need more than \(TokenTable.assignableBits) different scopes; share scopes between routes")
                }
                bit = 1 << UInt64(scopeNames.firstIndex(of: scope)!)
            }
            entries.append(.init(method: method, pattern: pattern, handler: handler, userData: route.user_data,
                                 isPublic: isPublic, scope: scope, requiredScopes: bit,
                                 timeoutMilliseconds: policies[i].timeoutMilliseconds, parameterNames: names,
                                 label: "\(method) \(pattern)"))
        }
        return (entries, scopeNames)
    }
}
