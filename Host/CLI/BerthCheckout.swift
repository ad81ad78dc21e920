import BerthPOSIX
import Glibc

/// The Berth source folder a new plugin package builds against: its
/// Package.swift provides BerthSDK (Swift) and SDK/C/include provides
/// berth.h (C).
struct BerthCheckout {
    /// Absolute, symlinks resolved: the generated files name it, and they
    /// must still work when run from another folder.
    let root: String

    var includeDirectory: String { root + "/SDK/C/include" }

    /// The SwiftPM identity of a path dependency is its folder's last
    /// component in lower case (not the manifest's name "Berth"), and
    /// `.product(name:package:)` must name that identity.
    var packageIdentity: String { String(root.split(separator: "/").last ?? "berth").lowercased() }

    /// `--sdk PATH`, checked; without it, the checkout this berth binary was
    /// built in (it lives in <checkout>/.build/...), found by walking up from
    /// the executable.
    static func locate(sdkOption: String?) throws -> BerthCheckout {
        if let sdkOption {
            guard let root = resolvedPath(sdkOption) else {
                throw NewCommandError("--sdk \(sdkOption): no such folder; give the root of a Berth checkout (the folder with Berth's Package.swift)")
            }
            guard isCheckout(root) else {
                throw NewCommandError("--sdk \(sdkOption): \(root) has no Package.swift and SDK/C/include/berth.h; give the root of a Berth checkout (the folder with Berth's Package.swift)")
            }
            return BerthCheckout(root: root)
        }
        let executable = resolvedPath(ChildProcess.currentExecutable()) ?? ChildProcess.currentExecutable()
        var folder = executable
        while let slash = folder.lastIndex(of: "/"), slash != folder.startIndex {
            folder = String(folder[..<slash])
            if isCheckout(folder) { return BerthCheckout(root: folder) }
        }
        throw NewCommandError("cannot find a Berth checkout above \(executable) (this berth was not run from its build folder); pass --sdk PATH, the root of a Berth checkout (the folder with Berth's Package.swift)")
    }

    private static func isCheckout(_ folder: String) -> Bool {
        Files.exists(folder + "/Package.swift") && Files.exists(folder + "/SDK/C/include/berth.h")
    }

    private static func resolvedPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }
}
