import CBerthShims
import Glibc

/// Who is at the other end of a Unix socket, as the kernel recorded it when
/// the client connected (SO_PEERCRED). The client cannot forge these.
public struct PeerCredentials: Equatable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// What a server records when the kernel gave no answer: uid and gid
    /// (uid_t)-1, which no allow-list can contain, so it fails closed.
    public static let unknown = PeerCredentials(pid: 0, uid: .max, gid: .max)

    /// One getsockopt; call it once per accepted connection, never per
    /// request.
    public static func of(_ socket: FileDescriptor) -> PeerCredentials {
        var credentials = unknown
        if berth_peer_credentials(socket.rawValue, &credentials.pid, &credentials.uid, &credentials.gid) != 0 {
            return unknown
        }
        return credentials
    }

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }
}
