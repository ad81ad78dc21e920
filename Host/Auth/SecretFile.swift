import BerthPOSIX
import Glibc

/// The check ssh makes of a private key, shared by the files that hold
/// tokens (`.auth_token`, the tokens file): a regular file, owned by berth's
/// user or root, that no one else may read or change. Each caller words the
/// refusal, because what to do differs (a planted admin token is deleted,
/// not adopted).
public enum SecretFile {
    public enum Problem: Equatable {
        case notRegularFile
        /// Group or others may read or write it: these permission bits.
        case tooOpen(mode_t)
        /// Owned by this uid, neither berth's nor root's.
        case foreignOwner(uid_t)
    }

    /// nil when the file may hold a secret. Takes the status of the open
    /// descriptor that will be read, so the file cannot be swapped between
    /// the check and the read.
    public static func problem(with status: FileStatus) -> Problem? {
        guard status.isRegularFile else { return .notRegularFile }
        guard status.permissions & 0o077 == 0 else { return .tooOpen(status.permissions) }
        guard status.owner == geteuid() || status.owner == 0 else { return .foreignOwner(status.owner) }
        return nil
    }

    public static func octal(_ permissions: mode_t) -> String { "0" + String(permissions, radix: 8) }
}
