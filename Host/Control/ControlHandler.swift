import BerthAuth
import BerthJSON
import BerthPOSIX
import BerthRouter
import BerthSupervisor
import BerthWire
import Glibc

/// The control socket `<run-dir>/berth.sock`: the same protocol as a plugin,
/// answering about and acting on the host. Every route needs the admin
/// token: a scoped token from the tokens file gets 403.
///
///     GET  /status                   every plugin's state and counters
///     GET  /plugins/{name}/routes    a plugin's routes
///     POST /reload                   rescan the plugins folder; answers when done
///     POST /plugins/{name}/restart   a fresh generation of one plugin; answers when done
public final class ControlHandler: RequestHandler {
    enum Answer {
        case document(JSONValue)
        case error(status: Int, code: String, message: String)
        /// The handler answers through a DeferredReply.
        case later
    }

    typealias Action = (_ parameters: [String], _ request: Request) -> Answer

    struct Route: GatedRoute {
        let action: Action
        var isPublic: Bool { false }
        var requiredScopes: TokenTable.Scopes { TokenTable.adminOnly }
        var scopeName: String? { nil }
    }

    private let supervisor: Supervisor
    private let configuration: Configuration
    private let startedAt = Clock.wallSeconds()
    private var router = Router<Route>()
    private var parameters: [Range<Int>] = []
    /// Set once the server exists (it needs this handler first).
    public weak var server: LineServer?
    /// Called when a reload starts from the control socket.
    public var onReload: ((@escaping (ReloadReport) -> Void) -> Void)?

    public init(supervisor: Supervisor, configuration: Configuration) {
        self.supervisor = supervisor
        self.configuration = configuration
        add(.get, "/status") { [unowned self] _, _ in .document(self.status()) }
        add(.get, "/plugins/{name}/routes") { [unowned self] parameters, _ in
            guard let document = self.supervisor.routesDocument(plugin: parameters[0]) else {
                return .error(status: 404, code: "not_found", message: "no plugin named \(parameters[0]); GET /status lists them")
            }
            return .document(document)
        }
        add(.post, "/reload") { [unowned self] _, request in
            let reply = self.server?.deferReply(id: request.id)
            let start = self.onReload ?? { self.supervisor.reload(reason: "POST /reload", $0) }
            start { report in reply?.succeed(status: 200, body: Array(report.document.serialized().utf8)) }
            return .later
        }
        add(.post, "/plugins/{name}/restart") { [unowned self] parameters, request in
            let reply = self.server?.deferReply(id: request.id)
            let known = self.supervisor.restart(plugin: parameters[0]) { report in
                reply?.succeed(status: 200, body: Array(report.document.serialized().utf8))
            }
            if !known {
                reply?.fail(status: 404, code: "not_found", message: "no plugin named \(parameters[0]); GET /status lists them")
            }
            return .later
        }
    }

    private func add(_ method: HTTPMethod, _ pattern: String, _ action: @escaping Action) {
        try! router.add(method, RoutePattern(pattern), Route(action: action))
    }

    public func handle(_ request: Request, into output: inout [UInt8]) {
        guard let route = Admission.admit(request, router: router, tokens: supervisor.tokenTable,
                                     parameters: &parameters, output: &output, service: "berth") else { return }
        let values = parameters.map { String(decoding: request.path[$0], as: UTF8.self) }
        switch route.target.action(values, request) {
        case .document(let body):
            Array(body.serialized().utf8).withUnsafeBytes {
                ResponseWriter.appendSuccess(&output, id: request.id, status: 200, data: $0)
            }
        case .error(let status, let code, let message):
            ResponseWriter.appendError(&output, id: request.id, status: status, code: code, message: message)
        case .later:
            break
        }
    }

    private func status() -> JSONValue {
        .object([
            ("host", .object([
                ("pid", .number(Double(getpid()))),
                ("started_at", .string(Clock.iso8601(startedAt))),
                ("plugins_dir", .string(configuration.pluginsDirectory)),
                ("run_dir", .string(configuration.runDirectory)),
                ("reloading", .bool(supervisor.isReloading)),
            ])),
            ("plugins", supervisor.statusDocument),
        ])
    }
}
