import Glibc

/// What fstat says about an open file: enough to refuse a secret file that
/// others could read or change, the way ssh refuses a private key.
public struct FileStatus {
    /// Permission bits only (e.g. 0o600).
    public let permissions: mode_t
    public let owner: uid_t
    public let size: Int
    public let isRegularFile: Bool
    /// The file type as a word, for messages: "FIFO", "character device"...
    public let kind: String
}

extension FileDescriptor {
    public func status() throws -> FileStatus {
        var info = stat()
        _ = try syscall("fstat") { fstat(rawValue, &info) }
        return FileStatus(permissions: info.st_mode & 0o7777, owner: info.st_uid, size: Int(info.st_size),
                          isRegularFile: info.st_mode & S_IFMT == S_IFREG, kind: FileStatus.kind(of: info.st_mode))
    }
}

extension FileStatus {
    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "regular file"
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFSOCK: return "socket"
        default: return "unknown file type"
        }
    }
}
