/// The names `berth new NAME` derives from NAME, so the plugin's socket,
/// its package folder, its Swift product and its C library all follow one
/// rule an author can predict: `my-kv` is plugin `my-kv` (my-kv.sock),
/// folder `my-kv`, Swift product and target `MyKvPlugin`
/// (`libMyKvPlugin.so`), C library `libmy-kv.so`.
struct NewPluginName {
    /// NAME itself: the plugin's name, its folder and its C library's stem.
    let name: String

    /// The longest name the host accepts for a plugin (berth.h: `[a-z0-9_-]{1,64}`).
    static let maximumLength = 64

    /// Checks NAME against `[a-z0-9][a-z0-9-]*`. Narrower than what the host
    /// accepts (no `_`, no leading `-`): the name also becomes a folder, a
    /// file stem and, through `productName`, a Swift identifier.
    init(_ text: String) throws {
        guard !text.isEmpty else { throw NewCommandError("NAME is empty: give the plugin a name such as my-kv") }
        guard text.utf8.count <= Self.maximumLength else {
            throw NewCommandError("NAME \"\(text)\" is \(text.utf8.count) characters; a plugin's name has at most \(Self.maximumLength)")
        }
        let isLowerAlphanumeric: (UInt8) -> Bool = { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        let bytes = Array(text.utf8)
        guard isLowerAlphanumeric(bytes[0]), bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
            throw NewCommandError("NAME \"\(text)\" is not a plugin name: use lower-case letters, digits and dashes, starting with a letter or digit (for example my-kv)")
        }
        name = text
    }

    /// UpperCamelCase of the dash-separated words, then "Plugin": the Swift
    /// package's library product and target.
    var productName: String {
        name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + "Plugin"
    }

    /// The Swift module a test imports: the target's name, except that
    /// SwiftPM makes a name starting with a digit an identifier by
    /// replacing that digit with an underscore (`2faPlugin` is `_faPlugin`).
    var moduleName: String {
        productName.first!.isNumber ? "_" + productName.dropFirst() : productName
    }

    /// The shared library a C package's Makefile builds.
    var cLibraryName: String { "lib\(name).so" }
}

/// A mistake on `berth new`'s command line or in its target folder, worded
/// to say what to do instead.
struct NewCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
