import BerthChannel
import BerthPOSIX
import Glibc

/// What a worker does to itself before it loads its plugin, so that plugin
/// code, its library constructors included, runs confined, in this order:
///   1. the resource limits from the plugin's settings (while still allowed
///      to set hard limits);
///   2. the user and group from the settings (a root host only);
///   3. no new privileges, always.
/// The setup message from the host carries the settings.
enum Confinement {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func apply(_ setup: WorkerSetup) throws {
        if let seconds = setup.cpuSeconds {
            do { try ResourceLimits.limitCPU(seconds: seconds) } catch {
                throw Failure(description: "cannot apply limits.cpu_seconds \(seconds): \(error)")
            }
        }
        if let count = setup.openFiles {
            do { try ResourceLimits.limitOpenFiles(count) } catch {
                throw Failure(description: "cannot apply limits.open_files \(count): \(error); lower it or raise the host's limit (ulimit -n)")
            }
        }
        if let credentials = setup.credentials, credentials.uid != nil || credentials.gid != nil {
            let (uid, gid) = (credentials.uid, credentials.gid)
            do { try Credentials.become(uid: uid, gid: gid) } catch {
                let who = credentials.settingsText.isEmpty ? "uid \(uid.map { String($0) } ?? "-") gid \(gid.map { String($0) } ?? "-")"
                    : credentials.settingsText
                let hint = geteuid() == 0 ? "" : "; only a host running as root can run workers as another user: remove user and group from the settings, or run berth serve as root"
                throw Failure(description: "cannot run as \(who): \(error)\(hint)")
            }
        }
        do { try Credentials.forbidNewPrivileges() } catch {
            throw Failure(description: "cannot give up new privileges: \(error)")
        }
    }
}
