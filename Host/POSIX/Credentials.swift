import CBerthShims
import Glibc

/// Users, groups and privileges: how a worker started by a root host runs
/// its plugin as another user, and how every worker gives up gaining
/// privileges.
public enum Credentials {
    /// A user by name or number: its uid and primary gid (nil for a number
    /// with no entry in the user database).
    public static func user(_ nameOrNumber: String) -> (uid: uid_t, gid: gid_t?)? {
        if let entry = getpwnam(nameOrNumber) { return (entry.pointee.pw_uid, entry.pointee.pw_gid) }
        guard let uid = uid_t(nameOrNumber) else { return nil }
        return (uid, getpwuid(uid).map { $0.pointee.pw_gid })
    }

    /// A group by name or number.
    public static func group(_ nameOrNumber: String) -> gid_t? {
        if let entry = getgrnam(nameOrNumber) { return entry.pointee.gr_gid }
        return gid_t(nameOrNumber)
    }

    /// Makes `gid` the process's only group, then `uid` its user. Called
    /// with root's privilege, setgid and setuid set the real, effective and
    /// saved IDs alike, so there is no way back. Group first: once the user
    /// is not root, the group can no longer be changed.
    public static func become(uid: uid_t?, gid: gid_t?) throws {
        if let gid {
            var groups = [gid]
            _ = try syscall("setgroups([\(gid)])") { setgroups(1, &groups) }
            _ = try syscall("setgid(\(gid))") { setgid(gid) }
        }
        if let uid {
            _ = try syscall("setuid(\(uid))") { setuid(uid) }
        }
    }

    /// PR_SET_NO_NEW_PRIVS: no exec of this process or its children can
    /// gain privileges (set-user-ID files, file capabilities). Irreversible.
    public static func forbidNewPrivileges() throws {
        _ = try syscall("prctl(PR_SET_NO_NEW_PRIVS)") { berth_set_no_new_privileges() }
    }
}
