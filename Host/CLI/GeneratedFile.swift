import BerthPOSIX
import Glibc

/// One file of a package `berth new` creates, relative to the package folder.
struct GeneratedFile {
    let path: String
    let contents: String
    var isExecutable = false

    /// Creates `folder` (its parent too, if missing) and the files in it.
    /// Refuses a folder that already exists, so nothing of the author's is
    /// ever overwritten.
    static func writePackage(_ files: [GeneratedFile], into folder: String) throws {
        let parent = folder.lastIndex(of: "/").map { String(folder[..<$0]) } ?? "."
        do {
            if !parent.isEmpty { try Files.makeDirectory(parent, mode: 0o755) }
            guard mkdir(folder, 0o755) == 0 else {
                if errno == EEXIST {
                    throw NewCommandError("\(folder) already exists: choose another NAME, another --dir, or remove it first")
                }
                throw Errno.current("mkdir(\(folder))")
            }
        } catch let failure as Errno {
            throw NewCommandError("cannot create \(folder) (\(failure)): choose a --dir you can write to")
        }
        for file in files {
            let path = folder + "/" + file.path
            if let slash = file.path.lastIndex(of: "/") {
                try Files.makeDirectory(folder + "/" + file.path[..<slash], mode: 0o755)
            }
            // O_EXCL: the folder is new, so any file already there is not ours.
            let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: file.isExecutable ? 0o755 : 0o644)
            defer { fd.close() }
            try fd.writeAll(file.contents)
        }
    }
}
