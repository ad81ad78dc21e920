import BerthPOSIX
import Glibc

/// The run directory holds the pid file, the admin token and every
/// socket; what the host tells an operator when it cannot write there.
enum RunDirectory {
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Adds what to do to a failed write in the run directory (a full disk
    /// gives only "No space left on device").
    static func explainWriteFailure(_ error: Error, in runDirectory: String) -> Error {
        guard let failure = error as? Errno, failure.code == ENOSPC || failure.code == EDQUOT else { return error }
        return Refused(description: "\(failure); free space on the file system that holds \(runDirectory) (df \(runDirectory)), or choose another --run-dir")
    }
}
