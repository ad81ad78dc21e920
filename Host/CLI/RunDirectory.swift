import BerthAuth
import BerthPOSIX
import Glibc

/// The run directory holds the admin token and every socket, so whoever
/// can write in it can learn the token (by planting one) or put their own
/// socket where clients connect. The host creates it (mode 0700) or uses
/// one that only berth's user can write, and never changes the mode of an
/// existing one (an operator may have given a group of clients access):
/// it checks and explains instead.
enum RunDirectory {
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// `groupWritable`: the operator said (`--run-dir-group-writable`)
    /// that every member of the directory's group may act as the operator.
    static func prepare(_ path: String, groupWritable: Bool) throws {
        try Files.makeDirectory(path, mode: 0o700)
        guard let status = try FileStatus.ofLink(path) else {
            throw Refused(description: "run directory \(path) vanished as it was created; start berth again")
        }
        if status.isSymbolicLink {
            let target = resolved(path).map { ": pass the directory itself, --run-dir \($0)" } ?? ""
            throw Refused(description: "run directory \(path) is a symbolic link; berth does not follow it, because whoever can change the link could move the sockets and the admin token elsewhere\(target)")
        }
        guard status.isDirectory else {
            throw Refused(description: "run directory \(path) exists and is not a directory; remove it or choose another --run-dir")
        }
        let user = geteuid()
        guard status.owner == user else {
            throw Refused(description: "run directory \(path) is owned by uid \(status.owner), not by berth's uid \(user): that user could plant an admin token or replace the sockets; remove it and let berth create it (mode 0700), choose another --run-dir, or run chown \(user) \(path) if you trust everything in it")
        }
        let mode = "mode \(SecretFile.octal(status.permissions))"
        if status.permissions & 0o002 != 0 {
            throw Refused(description: "run directory \(path) is writable by every user (\(mode)): anyone could plant an admin token or a socket there; use a directory of berth's own, such as --run-dir \(path)/berth (berth creates it, mode 0700), or run chmod o-w \(path)")
        }
        if status.permissions & 0o020 != 0 && !groupWritable {
            throw Refused(description: "run directory \(path) is writable by its group, gid \(status.group) (\(mode)): every member could plant an admin token or replace the sockets; run chmod g-w \(path) (clients in a group need only g+x on the directory and g+w on the sockets), or start berth with --run-dir-group-writable if every member may act as the operator")
        }
    }

    /// Adds what to do to a failed write in the run directory (a full disk
    /// gives only "No space left on device").
    static func explainWriteFailure(_ error: Error, in runDirectory: String) -> Error {
        guard let failure = error as? Errno, failure.code == ENOSPC || failure.code == EDQUOT else { return error }
        return Refused(description: "\(failure); free space on the file system that holds \(runDirectory) (df \(runDirectory)), or choose another --run-dir")
    }

    private static func resolved(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }
}
