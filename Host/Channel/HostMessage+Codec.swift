import BerthAuth

/// Each host message as a type byte and its fields, in this order.
extension HostMessage: ChannelMessage {
    /// A plugin's config rides on setup (docs/operating.md: up to 64 MiB).
    public static var maximumBytes: Int { ChannelProtocol.maximumMessageBytes }

    private enum Tag: UInt8 {
        case setup = 1, serve, tokens, initialize, services, instance
    }

    public func encode(into writer: inout ChannelWriter) {
        switch self {
        case .setup(let setup):
            writer.byte(Tag.setup.rawValue)
            writer.bytes(setup.config)
            writer.optional(setup.cpuSeconds) { $0.int($1) }
            writer.optional(setup.openFiles) { $0.int($1) }
            writer.optional(setup.credentials) { writer, credentials in
                writer.optional(credentials.uid) { $0.uint32($1) }
                writer.optional(credentials.gid) { $0.uint32($1) }
                writer.string(credentials.settingsText)
            }
        case .serve(let serve):
            writer.byte(Tag.serve.rawValue)
            writer.bytes(serve.adminToken)
            writer.int(serve.clientLimits.maxRequestBytes)
            writer.double(serve.clientLimits.idleTimeout)
            writer.double(serve.clientLimits.readTimeout)
            writer.int(serve.clientLimits.maxConnections)
            writer.optional(serve.clientLimits.maxBufferedInputMB) { $0.int($1) }
            writer.uint32(serve.timeouts.requestMilliseconds)
            writer.array(serve.timeouts.routeMilliseconds) { writer, limit in
                writer.string(limit.route)
                writer.uint32(limit.milliseconds)
            }
            writer.array(serve.scopedTokens, Self.encodeToken)
            writer.optional(serve.allowedUIDs) { writer, uids in writer.array(uids) { $0.uint32($1) } }
            writer.bytes(serve.identity)
        case .tokens(let tokens):
            writer.byte(Tag.tokens.rawValue)
            writer.array(tokens, Self.encodeToken)
        case .initialize:
            writer.byte(Tag.initialize.rawValue)
        case .services(let directory):
            writer.byte(Tag.services.rawValue)
            writer.array(directory.services) { writer, service in
                writer.string(service.name)
                writer.uint64(service.generation)
                writer.array(service.instances) { writer, instance in
                    writer.int(instance.number)
                    writer.string(instance.socketPath)
                }
                writer.array(service.retryableRoutes) { $0.string($1) }
            }
        case .instance(let number, let count):
            writer.byte(Tag.instance.rawValue)
            writer.int(number)
            writer.int(count)
        }
    }

    public static func decode(from reader: inout ChannelReader) throws -> HostMessage {
        let tag = try reader.byte("message type")
        switch Tag(rawValue: tag) {
        case .setup:
            return .setup(WorkerSetup(
                config: try reader.bytes("config"),
                cpuSeconds: try reader.optional("cpu seconds") { try $0.int("cpu seconds") },
                openFiles: try reader.optional("open files") { try $0.int("open files") },
                credentials: try reader.optional("credentials") { reader in
                    WorkerCredentials(uid: try reader.optional("uid") { try $0.uint32("uid") },
                                      gid: try reader.optional("gid") { try $0.uint32("gid") },
                                      settingsText: try reader.string("run as"))
                }))
        case .serve:
            let token = try reader.bytes("admin token")
            let limits = ClientLimits(maxRequestBytes: try reader.int("max request bytes"),
                                      idleTimeout: try reader.double("idle timeout"),
                                      readTimeout: try reader.double("read timeout"),
                                      maxConnections: try reader.int("max connections"),
                                      maxBufferedInputMB: try reader.optional("max buffered input") { try $0.int("max buffered input") })
            let timeouts = HandlerTimeouts(
                requestMilliseconds: try reader.uint32("request timeout"),
                routeMilliseconds: try reader.array("route timeouts", minimumItemBytes: 8) { reader in
                    .init(route: try reader.string("route timeout's route"), milliseconds: try reader.uint32("route timeout"))
                })
            return .serve(ServeSettings(
                adminToken: token, clientLimits: limits, timeouts: timeouts,
                scopedTokens: try reader.array("scoped tokens", minimumItemBytes: 8, decodeToken),
                allowedUIDs: try reader.optional("allowed uids") { try $0.array("allowed uids", minimumItemBytes: 4) { try $0.uint32("uid") } },
                identity: try reader.bytes("identity")))
        case .tokens:
            return .tokens(try reader.array("scoped tokens", minimumItemBytes: 8, decodeToken))
        case .initialize:
            return .initialize
        case .services:
            return .services(ServiceDirectory(services: try reader.array("services", minimumItemBytes: 20) { reader in
                ServiceEntry(name: try reader.string("service name"),
                             generation: try reader.uint64("generation"),
                             instances: try reader.array("instances", minimumItemBytes: 12) { reader in
                                 ServiceInstance(number: try reader.int("instance number"), socketPath: try reader.string("instance socket"))
                             },
                             retryableRoutes: try reader.array("retryable routes", minimumItemBytes: 4) { try $0.string("route") })
            }))
        case .instance:
            return .instance(number: try reader.int("instance number"), count: try reader.int("instance count"))
        case nil:
            throw reader.malformed("unknown host message type \(tag)")
        }
    }

    private static func encodeToken(_ writer: inout ChannelWriter, _ token: ScopedToken) {
        writer.bytes(token.bytes)
        writer.array(token.scopes) { $0.string($1) }
    }

    private static func decodeToken(_ reader: inout ChannelReader) throws -> ScopedToken {
        ScopedToken(bytes: try reader.bytes("token"),
                    scopes: try reader.array("token scopes", minimumItemBytes: 4) { try $0.string("scope") })
    }
}
