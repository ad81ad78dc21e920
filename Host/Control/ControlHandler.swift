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

    typealias Action = (_ parameters: [String], _ request: IncomingRequest, _ reply: borrowing ReplyContext) -> Answer

    struct Route: AdmissionRoute {
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

    public init(supervisor: Supervisor, configuration: Configuration) {
        self.supervisor = supervisor
        self.configuration = configuration
        add(.get, "/status") { [unowned self] _, _, _ in .document(self.status()) }
        add(.get, "/plugins/{name}/routes") { [unowned self] parameters, _, _ in
            guard let document = self.supervisor.routesDocument(plugin: parameters[0]) else {
                return .error(status: 404, code: "not_found", message: "no plugin named \(parameters[0]); GET /status lists them")
            }
            return .document(document)
        }
        add(.post, "/reload") { [unowned self] _, _, reply in
            let later = reply.deferReply()
            self.supervisor.reload(reason: "POST /reload") { report in
                later.succeed(status: 200, body: Array(report.document.serialized().utf8))
            }
            return .later
        }
        add(.post, "/plugins/{name}/restart") { [unowned self] parameters, _, reply in
            let later = reply.deferReply()
            let known = self.supervisor.restart(plugin: parameters[0]) { report in
                later.succeed(status: 200, body: Array(report.document.serialized().utf8))
            }
            if !known {
                later.fail(status: 404, code: "not_found", message: "no plugin named \(parameters[0]) and no plugin file of that name; `berth status` lists each plugin's name and file")
            }
            return .later
        }
    }

    private func add(_ method: HTTPMethod, _ pattern: String, _ action: @escaping Action) {
        try! router.add(method, RoutePattern(pattern), Route(action: action))
    }

    public func handle(_ request: IncomingRequest, reply: borrowing ReplyContext) {
        guard let route = Admission.admit(request, router: router, tokens: supervisor.tokenTable,
                                          parameters: &parameters, reply: reply, service: "berth") else { return }
        let values = parameters.map { String(decoding: request.path[$0], as: UTF8.self) }
        switch route.target.action(values, request, reply) {
        case .document(let body):
            Array(body.serialized().utf8).withUnsafeBytes { reply.appendSuccess(status: 200, data: $0) }
        case .error(let status, let code, let message):
            reply.appendError(status: status, code: code, message: message)
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
                ("unmatched_settings", .array(supervisor.unmatchedSettings.map(JSONValue.string))),
            ])),
            ("plugins", supervisor.statusDocument),
        ])
    }
}
