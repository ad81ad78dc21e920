import BerthAuth
import BerthPOSIX
import Glibc

/// `<run-dir>/berth.pid`: the host's pid, locked for the host's whole life,
/// so a second `berth serve` on the same run directory finds out at once.
///
/// A stopping host unlinks the file while it still holds the lock, then
/// closes it. A starting host may have opened that file just before the
/// unlink and get its lock just after: it would then hold a lock on a file
/// no one else can see, and a third host would lock a new file beside it.
/// So whoever takes the lock checks that the path still names the file it
/// locked, and starts over if not.
final class PidFile {
    let path: String
    private let fd: FileDescriptor
    private let identity: FileIdentity

    private init(path: String, fd: FileDescriptor, identity: FileIdentity) {
        self.path = path
        self.fd = fd
        self.identity = identity
    }

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Locks the file and writes this process's pid into it.
    static func lock(_ path: String, runDirectory: String) throws -> PidFile {
        // Each lap means another host stopped meanwhile; a few are plenty.
        for _ in 0..<100 {
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode: 0o644)
            } catch let error as Errno where error.code == ELOOP {
                throw Refused(description: "\(path) is a symbolic link; berth writes its pid only into a file of its own: remove the link and start berth again")
            }
            if flock(fd.rawValue, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = (try? fd.readAll()).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() } ?? "?"
                fd.close()
                guard code == EWOULDBLOCK else { throw Errno(code, "flock(\(path))") }
                // Refused, not an Errno: its description would end in ": Address already in use".
                throw Refused(description: "another berth (pid \(holder)) is serving \(runDirectory); stop it first or use another --run-dir")
            }
            let locked: FileStatus
            do {
                locked = try fd.status()
            } catch {
                fd.close()
                throw error
            }
            guard locked.isRegularFile else {
                fd.close()
                throw Refused(description: "\(path) is not a regular file; remove it and start berth again")
            }
            guard (try? FileStatus.ofLink(path))??.identity == locked.identity else {
                // Unlinked (or replaced) by a host that stopped after our
                // open: try again with what the path names now.
                fd.close()
                continue
            }
            let pidFile = PidFile(path: path, fd: fd, identity: locked.identity)
            do {
                _ = try syscall("ftruncate(\(path))") { ftruncate(fd.rawValue, 0) }
                do {
                    try fd.writeAll("\(getpid())\n")
                } catch let error as Errno {
                    throw Errno(error.code, "write(\(path))")
                }
            } catch {
                // Leave no pid file naming no one.
                pidFile.release()
                throw RunDirectory.explainWriteFailure(error, in: runDirectory)
            }
            return pidFile
        }
        throw Refused(description: "\(path) was replaced 100 times while berth tried to lock it; is another program removing it?")
    }

    /// Unlinks the file while still holding its lock, but only if the path
    /// still names this host's file (an operator may have removed it, and
    /// another host created its own), then releases the lock.
    func release() {
        if (try? FileStatus.ofLink(path))??.identity == identity {
            Files.remove(path)
        }
        fd.close()
    }
}
