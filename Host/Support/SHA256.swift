import BerthPOSIX
import CBerthShims

/// SHA-256, so the hash status shows for a plugin file is the one
/// `sha256sum` prints. Decides whether a file changed on reload.
public enum SHA256 {
    /// The digest as 64 lowercase hex characters.
    public static func hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { berth_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        return digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
