import Foundation

/// The plugin's settings as the host passed them to `init`.
public struct PluginConfig: Sendable {
    /// The settings object as JSON text; `"{}"` when there are none.
    public let json: String

    /// Wraps settings JSON, e.g. to unit-test an `onInit` hook.
    public init(json: String) { self.json = json }

    /// Decodes the settings, e.g. `try config.decode(Settings.self)`.
    /// Throws a `PluginError` naming the type and the offending field, which
    /// `onInit` logs when it refuses the load.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch {
            throw PluginError(status: 500, code: "bad_config",
                              message: "invalid settings for \(T.self): \(describeCodingError(error))")
        }
    }
}
