import BerthWire

/// Each worker message as a type byte and its fields, in this order.
extension WorkerMessage: ChannelMessage {
    /// Tighter than the host's: the host buffers it (see ChannelProtocol).
    public static var maximumBytes: Int { ChannelProtocol.maximumWorkerMessageBytes }

    private enum Tag: UInt8 {
        case loaded = 1, failed, timeout, tokensApplied, named
    }

    public func encode(into writer: inout ChannelWriter) {
        switch self {
        case .loaded(let report):
            writer.byte(Tag.loaded.rawValue)
            writer.string(report.name)
            writer.string(report.version)
            writer.string(report.abi)
            writer.array(report.routes) { writer, route in
                writer.byte(route.method.rawValue)
                writer.string(route.pattern)
                writer.bool(route.isPublic)
                writer.optional(route.scope) { $0.string($1) }
            }
        case .failed(let reason):
            writer.byte(Tag.failed.rawValue)
            writer.string(reason)
        case .timeout(let route, let limit):
            writer.byte(Tag.timeout.rawValue)
            writer.string(route)
            writer.uint32(limit)
        case .tokensApplied:
            writer.byte(Tag.tokensApplied.rawValue)
        case .named(let name):
            writer.byte(Tag.named.rawValue)
            writer.string(name)
        }
    }

    public static func decode(from reader: inout ChannelReader) throws -> WorkerMessage {
        let tag = try reader.byte("message type")
        switch Tag(rawValue: tag) {
        case .loaded:
            return .loaded(PluginReport(
                name: try reader.string("name"), version: try reader.string("version"), abi: try reader.string("abi"),
                routes: try reader.array("routes", minimumItemBytes: 7) { reader in
                    let method = try reader.byte("route method")
                    guard let known = HTTPMethod(rawValue: method) else { throw reader.malformed("unknown route method \(method)") }
                    return ChannelRoute(method: known, pattern: try reader.string("route pattern"), isPublic: try reader.bool("route public"),
                                        scope: try reader.optional("route scope") { try $0.string("route scope") })
                }))
        case .failed:
            return .failed(reason: try reader.string("reason"))
        case .timeout:
            return .timeout(route: try reader.string("route"), limitMilliseconds: try reader.uint32("limit"))
        case .tokensApplied:
            return .tokensApplied
        case .named:
            return .named(try reader.string("name"))
        case nil:
            throw reader.malformed("unknown worker message type \(tag)")
        }
    }
}
