import BerthPOSIX
import BerthRouter
import BerthSupervisor
import BerthWire
import Glibc

/// The control socket `<run-dir>/berth.sock`: the same protocol as a plugin,
/// answering about the host. Every route needs the token.
public final class ControlHandler: RequestHandler {
    typealias Action = (_ parameters: [String]) -> (status: Int, body: JSONValue)

    private let supervisor: Supervisor
    private let configuration: Configuration
    private let token: AuthToken
    private let startedAt = Clock.wallSeconds()
    private var router = Router<Action>()
    private var parameters: [Range<Int>] = []

    public init(supervisor: Supervisor, configuration: Configuration, token: AuthToken) {
        self.supervisor = supervisor
        self.configuration = configuration
        self.token = token
        try! router.add(.get, RoutePattern("/status")) { [unowned self] _ in (200, self.status()) }
        try! router.add(.get, RoutePattern("/plugins/{name}/routes")) { [unowned self] parameters in
            guard let document = self.supervisor.routesDocument(plugin: parameters[0]) else {
                return (404, .string("no plugin named \(parameters[0]); GET /status lists them"))
            }
            return (200, document)
        }
    }

    public func handle(_ request: Request, into output: inout [UInt8]) {
        guard let route = Gate.admit(request, router: router, token: token, isPublic: { _ in false },
                                     parameters: &parameters, output: &output, service: "berth") else { return }
        let values = parameters.map { String(decoding: request.path[$0], as: UTF8.self) }
        let (status, body) = route.target(values)
        if status >= 400, let message = body.stringValue {
            ResponseWriter.appendError(&output, id: request.id, status: status, code: "not_found", message: message)
            return
        }
        let text = Array(body.serialized().utf8)
        text.withUnsafeBytes { ResponseWriter.appendSuccess(&output, id: request.id, status: status, data: $0) }
    }

    private func status() -> JSONValue {
        .object([
            ("host", .object([
                ("pid", .number(Double(getpid()))),
                ("started_at", .string(Clock.iso8601(startedAt))),
                ("plugins_dir", .string(configuration.pluginsDirectory)),
                ("run_dir", .string(configuration.runDirectory)),
            ])),
            ("plugins", supervisor.statusDocument),
        ])
    }
}
