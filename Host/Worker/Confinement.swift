import BerthPOSIX
import BerthWire
import Glibc

/// What a worker does to itself before it loads its plugin, so that plugin
/// code, its library constructors included, runs confined: the resource
/// limits from the plugin's settings (the host's setup message).
enum Confinement {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func apply(_ setup: ChannelMessage) throws {
        if let seconds = setup["cpu-seconds"].flatMap({ Int($0) }) {
            do { try ResourceLimits.limitCPU(seconds: seconds) } catch {
                throw Failure(description: "cannot apply limits.cpu_seconds \(seconds): \(error)")
            }
        }
        if let count = setup["open-files"].flatMap({ Int($0) }) {
            do { try ResourceLimits.limitOpenFiles(count) } catch {
                throw Failure(description: "cannot apply limits.open_files \(count): \(error); lower it or raise the host's limit (ulimit -n)")
            }
        }
    }
}
