import Glibc

/// What fstat says about an open file: enough to refuse a secret file that
/// others could read or change, the way ssh refuses a private key.
public struct FileStatus {
    /// Permission bits only (e.g. 0o600).
    public let permissions: mode_t
    public let owner: uid_t
    public let group: gid_t
    public let size: Int
    public let isRegularFile: Bool
    public let isDirectory: Bool
    public let isSymbolicLink: Bool
    /// Device and inode: which file this is, whatever names it has now.
    public let identity: FileIdentity
    /// The file type as a word, for messages: "FIFO", "character device"...
    public let kind: String

    init(_ info: stat) {
        let type = info.st_mode & S_IFMT
        permissions = info.st_mode & 0o7777
        owner = info.st_uid
        group = info.st_gid
        size = Int(info.st_size)
        isRegularFile = type == S_IFREG
        isDirectory = type == S_IFDIR
        isSymbolicLink = type == S_IFLNK
        identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        kind = FileStatus.kind(of: info.st_mode)
    }

    /// lstat: a symbolic link is described, not followed. nil if nothing
    /// has that name (ENOENT); other failures throw.
    public static func ofLink(_ path: String) throws -> FileStatus? {
        var info = stat()
        if lstat(path, &info) == 0 { return FileStatus(info) }
        if errno == ENOENT { return nil }
        throw Errno.current("lstat(\(path))")
    }
}

/// A file's device and inode number.
public struct FileIdentity: Equatable {
    public let device: UInt64
    public let inode: UInt64
}

extension FileDescriptor {
    public func status() throws -> FileStatus {
        var info = stat()
        _ = try syscall("fstat") { fstat(rawValue, &info) }
        return FileStatus(info)
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
