/// A plugin's settings are read only from `<file>.json` beside `<file>.so`.
/// A settings file named after the plugin instead of its library
/// (`libgreeter.json` beside `libGreeterPlugin.so`) would otherwise be
/// ignored without a word, and the plugin run with defaults: each reload
/// finds such files so the log and status can name them.
public enum UnmatchedSettings {
    /// The `*.json` names in a folder's listing with no `*.so` of the same
    /// stem, in the listing's order.
    public static func find(in names: [String]) -> [String] {
        let libraries = Set(names.filter { $0.hasSuffix(".so") }.map { String($0.dropLast(3)) })
        return names.filter { $0.hasSuffix(".json") && !libraries.contains(String($0.dropLast(5))) }
    }

    /// What the log says about one. `candidates`: the plugin files with no
    /// settings of their own, which it may have been meant for.
    public static func warning(_ name: String, folder: String, candidates: [String]) -> String {
        let stem = String(name.dropLast(5))
        let hint = candidates.isEmpty
            ? "remove it, or put the plugin file it is for beside it as \(stem).so"
            : "rename it after the plugin file it is for: " + candidates.map { "\($0.dropLast(3)).json for \($0)" }.joined(separator: ", ")
        return "settings file \(folder)/\(name) is not read: there is no \(folder)/\(stem).so (a plugin's settings are <file>.json beside <file>.so); \(hint)"
    }
}
