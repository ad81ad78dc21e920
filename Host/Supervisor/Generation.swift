import BerthPOSIX
import BerthSupport
import Glibc

/// One version of a plugin: the library bytes and settings it was started
/// with, and what its workers reported about it. Its state (loading,
/// serving, ...) and its workers are the slot machine's (`GenerationRecord`,
/// same number); the Supervisor keeps this object while the machine holds
/// the generation.
final class Generation {
    let number: Int
    /// The private in-memory copy every worker of this generation loads
    /// (nil for a file that could not even be read).
    let library: FileDescriptor?
    let sha256: String
    let settings: PluginSettings
    /// Library and settings file together: a change in either is an update.
    let fingerprint: String
    let createdAt = Clock.wallSeconds()

    /// As the last worker that began serving reported them, for status
    /// (the version is the machine's: GenerationRecord).
    var abi: String?
    var routes: [PluginSlot.RouteInfo] = []

    init(number: Int, library: FileDescriptor?, sha256: String, settings: PluginSettings, fingerprint: String) {
        self.number = number
        self.library = library
        self.sha256 = sha256
        self.settings = settings
        self.fingerprint = fingerprint
    }

    deinit { library?.close() }

    /// The largest plugin library the host reads: far above any real one
    /// (a debug Swift plugin is a few MiB), and a bound on what a file
    /// dropped in the folder by mistake costs the host (it is held twice,
    /// once to hash and once in the in-memory copy).
    static let maximumLibraryBytes = 256 << 20

    /// Reads a plugin file (and its settings) into a new generation.
    static func load(file: String, number: Int, defaults: Configuration) throws -> Generation {
        let bytes = try Files.readRegularFile(file, maximumBytes: maximumLibraryBytes,
                                           whenTooLarge: "is it the right file?")
        let (settings, settingsBytes) = try PluginSettings.load(forPlugin: file, defaults: defaults)
        let library = try privateCopy(bytes)
        let sha256 = SHA256.hex(bytes)
        return Generation(number: number, library: library, sha256: sha256, settings: settings,
                          fingerprint: sha256 + "+" + SHA256.hex(settingsBytes))
    }

    /// An anonymous in-memory file the workers dlopen: overwriting the file
    /// on disk later (even in place with cp) cannot change their code.
    private static func privateCopy(_ bytes: [UInt8]) throws -> FileDescriptor {
        let fd = try FileDescriptor.memfd(name: "berth-plugin")
        do {
            try fd.writeAll(bytes)
            return fd
        } catch {
            fd.close()
            throw error
        }
    }

    /// Stands for a file that could not be read, so status can show its
    /// default settings.
    static func failedPlaceholder(number: Int) -> Generation {
        Generation(number: number, library: nil, sha256: "", settings: PluginSettings(defaults: Configuration()), fingerprint: "")
    }
}
