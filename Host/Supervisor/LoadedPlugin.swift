/// What a worker reports once it has loaded its plugin: checked against
/// the other plugins and the settings, then kept on the generation once
/// the worker serves.
struct LoadedPlugin {
    var name: String
    var version: String?
    var abi: String?
    var routes: [PluginSlot.RouteInfo]
    /// "METHOD /pattern" and any scope, as route_timeouts names routes.
    var routeKeys: [String]
}
