import CBerthShims
import Glibc

public enum SecureRandom {
    /// `count` bytes from the kernel's CSPRNG (getrandom(2)).
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { berth_getrandom($0.baseAddress! + filled, count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Errno.current("getrandom")
            }
            filled += n
        }
        return out
    }
}
