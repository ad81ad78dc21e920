import BerthPOSIX
import Glibc

/// `berth new NAME [--swift | --c] [--dir DIR] [--sdk PATH]`: creates a
/// plugin package in DIR/NAME that builds, tests and deploys with no edit.
enum NewCommand {
    enum Language { case swift, c }

    static func main(_ raw: [String]) -> Int32 {
        let arguments: Arguments
        do {
            arguments = try Arguments(raw, valued: ["dir", "sdk"], flags: ["swift", "c"])
        } catch {
            usageError("\(error)", help: Help.new)
        }
        guard arguments.positional.count == 1 else {
            usageError(arguments.positional.isEmpty ? "new needs the plugin's NAME (for example: berth new my-kv)"
                                                    : "new takes one NAME, not \(arguments.positional.joined(separator: " "))",
                       help: Help.new)
        }
        guard !(arguments.flags.contains("swift") && arguments.flags.contains("c")) else {
            usageError("--swift and --c cannot both be given: choose the plugin's language", help: Help.new)
        }
        let language: Language = arguments.flags.contains("c") ? .c : .swift
        do {
            let name = try NewPluginName(arguments.positional[0])
            let checkout = try BerthCheckout.locate(sdkOption: arguments.options["sdk"])
            let files: [GeneratedFile]
            switch language {
            case .swift: files = SwiftPluginTemplate.files(name, checkout: checkout)
            case .c: files = try CPluginTemplate.files(name, checkout: checkout, berth: ChildProcess.currentExecutable())
            }
            let folder = (arguments.options["dir"] ?? ".") + "/" + name.name
            try GeneratedFile.writePackage(files, into: folder)
            print(nextSteps(name, language: language, folder: folder, files: files))
            return 0
        } catch {
            FileDescriptor.standardError.writeLine("berth new: \(error)")
            return 1
        }
    }

    /// What to run next, so the first build and deploy need no reading.
    static func nextSteps(_ name: NewPluginName, language: Language, folder: String, files: [GeneratedFile]) -> String {
        let listing = files.map { "  \($0.path)" }.joined(separator: "\n")
        let steps: String
        switch language {
        case .swift:
            steps = """
              swift test                                    # its tests, in-process
              swift build --product \(name.productName)
              cp .build/debug/lib\(name.productName).so PLUGINS_DIR/ && berth reload
            """
        case .c:
            steps = """
              make test                                     # builds \(name.cLibraryName), runs test.sh
              cp \(name.cLibraryName) PLUGINS_DIR/ && berth reload
            """
        }
        return """
        Created the \(language == .swift ? "Swift" : "C") plugin \(name.name) in \(folder):
        \(listing)

        Next (PLUGINS_DIR: the folder berth serve loads, plugins.d by default):
          cd \(folder)
        \(steps)
          berth call \(name.name) GET /hello/bob
        """
    }
}
