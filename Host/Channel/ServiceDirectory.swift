/// Which services a worker may call and where their instances listen
/// (HostMessage.services): sent after `serve` and again whenever a plugin
/// starts or stops serving, a reload puts a new generation in place, or a
/// worker is replaced. A worker's caller (Host/Calls) keeps connections to
/// the instances listed here and retires those of an older generation.
public struct ServiceDirectory: Equatable {
    public var services: [ServiceEntry]

    public init(services: [ServiceEntry] = []) {
        self.services = services
    }
}

/// One plugin as callers see it.
public struct ServiceEntry: Equatable {
    /// The plugin's name: what `berth_call.service` names.
    public var name: String
    /// Changes when a new generation of the plugin serves (a reload or
    /// restart); callers stop sending on connections opened before it.
    public var generation: UInt64
    /// Its instances; empty while none serves (calls get "unavailable").
    public var instances: [ServiceInstance]
    /// Labels ("POST /charge/{id}") of its routes marked
    /// BERTH_ROUTE_RETRYABLE: calls to them may be retried whatever their
    /// method.
    public var retryableRoutes: [String]

    public init(name: String, generation: UInt64, instances: [ServiceInstance], retryableRoutes: [String] = []) {
        self.name = name
        self.generation = generation
        self.instances = instances
        self.retryableRoutes = retryableRoutes
    }
}

/// One instance of a plugin: its own socket, so a caller can choose it.
public struct ServiceInstance: Equatable {
    /// 0-based, as the worker's BERTH_INSTANCE says.
    public var number: Int
    /// `<run-dir>/<name>@<number>.sock`; the shared `<run-dir>/<name>.sock`
    /// where the host has no socket per instance.
    public var socketPath: String

    public init(number: Int, socketPath: String) {
        self.number = number
        self.socketPath = socketPath
    }
}
