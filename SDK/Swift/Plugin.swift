internal import CBerth

/// A Berth plugin: its name, version, optional lifecycle hooks and routes.
///
/// Create exactly one, as a global, and return its `descriptor` from the
/// exported entry point:
///
///     let plugin = Plugin(name: "greeter", version: "1.0.0") { routes in
///         routes.get("/hello/{name}", public: true) { request in ... }
///     }
///
///     @_cdecl("berth_plugin_entry")
///     public func berthPluginEntry() -> UnsafeRawPointer { plugin.descriptor }
public final class Plugin: @unchecked Sendable {
    // @unchecked: everything is immutable after init, and the descriptor's
    // memory is written once here and only read afterwards.

    let onInit: ((PluginConfig) throws -> Void)?
    let onShutdown: (() -> Void)?
    /// Internal, not private: PluginTestClient routes through this table.
    let plugin: UnsafeMutablePointer<berth_plugin>

    /// Builds the descriptor the host reads.
    ///
    /// - Parameters:
    ///   - name: `[a-z0-9_-]{1,64}`, unique among loaded plugins.
    ///   - version: free-form, shown in status.
    ///   - onInit: runs once before any request, with the plugin's settings.
    ///     Throwing refuses the load; the error is written to the host log.
    ///   - onShutdown: runs once before the worker exits normally.
    ///   - configure: declares the routes; called once, right here.
    public init(name: String,
                version: String,
                onInit: ((PluginConfig) throws -> Void)? = nil,
                onShutdown: (() -> Void)? = nil,
                configure: (Routes) -> Void) {
        self.onInit = onInit
        self.onShutdown = onShutdown

        let routes = Routes()
        configure(routes)

        // The host may read the descriptor at any time while the process
        // lives and never unloads a plugin, so none of this is ever freed.
        let table = UnsafeMutablePointer<berth_route>.allocate(capacity: max(routes.entries.count, 1))
        for (index, entry) in routes.entries.enumerated() {
            (table + index).initialize(to: berth_route(
                method: immortalCString(entry.method),
                pattern: immortalCString(entry.pattern),
                handler: handleRequest,
                user_data: Unmanaged.passRetained(RouteBox(entry.handler)).toOpaque(),
                flags: entry.isPublic ? BERTH_ROUTE_PUBLIC : 0))
        }
        let policies = UnsafeMutablePointer<berth_route_policy>.allocate(capacity: max(routes.entries.count, 1))
        for (index, entry) in routes.entries.enumerated() {
            (policies + index).initialize(to: berth_route_policy(
                scope: entry.scope.map(immortalCString), timeout_ms: entry.timeoutMilliseconds))
        }

        plugin = .allocate(capacity: 1)
        plugin.initialize(to: berth_plugin(
            magic: BERTH_PLUGIN_MAGIC,
            abi_major: UInt16(BERTH_ABI_MAJOR),
            abi_minor: UInt16(BERTH_ABI_MINOR),
            size: UInt32(MemoryLayout<berth_plugin>.size),
            name: immortalCString(name),
            version: immortalCString(version),
            routes: table,
            route_count: routes.entries.count,
            init: pluginInit,
            shutdown: pluginShutdown,
            route_policies: policies,
            route_policy_size: UInt32(MemoryLayout<berth_route_policy>.size),
            health: nil))
    }

    /// The `const berth_plugin *` to return from `berth_plugin_entry`.
    public var descriptor: UnsafeRawPointer {
        // Handing out the descriptor is what makes this the plugin whose
        // hooks the C init/shutdown entry points run.
        Runtime.plugin = self
        return UnsafeRawPointer(plugin)
    }
}
