import Glibc

/// Which run directory a command uses, and how it was chosen: `--run-dir`,
/// then `BERTH_RUN_DIR`, then `run` in the current directory. A command
/// run from another directory than `berth serve` finds nothing, and the
/// one thing that explains it is which path was tried and why, so every
/// error of the client commands says both.
struct RunDirectoryChoice: CustomStringConvertible {
    enum Origin {
        case option, environment, builtInDefault
    }

    static let environmentVariable = "BERTH_RUN_DIR"
    static let builtInDefault = "run"

    let path: String
    let origin: Origin

    init(option: String?) {
        if let option {
            path = option
            origin = .option
        } else if let fromEnvironment = getenv(Self.environmentVariable).map({ String(cString: $0) }), !fromEnvironment.isEmpty {
            path = fromEnvironment
            origin = .environment
        } else {
            path = Self.builtInDefault
            origin = .builtInDefault
        }
    }

    /// "run dir run (/home/me/run), the default (no --run-dir, no BERTH_RUN_DIR)".
    var description: String {
        let how: String
        switch origin {
        case .option: how = "from --run-dir"
        case .environment: how = "from \(Self.environmentVariable)"
        case .builtInDefault: how = "the default (no --run-dir, no \(Self.environmentVariable))"
        }
        let absolute = path.hasPrefix("/") ? "" : " (\(Self.currentDirectory().map { "\($0)/\(path)" } ?? path))"
        return "run dir \(path)\(absolute), \(how)"
    }

    /// What to do when nothing answers there.
    var advice: String {
        "is `berth serve` running with this run dir? Pass the one it uses with --run-dir DIR or \(Self.environmentVariable)=DIR"
    }

    private static func currentDirectory() -> String? {
        guard let path = getcwd(nil, 0) else { return nil }
        defer { free(path) }
        return String(cString: path)
    }
}
