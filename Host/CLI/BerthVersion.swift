import BerthWorker

/// Berth's version: the one place it is written. The plugin ABI it speaks
/// comes from berth.h (BERTH_ABI_MAJOR.BERTH_ABI_MINOR), the one place that
/// is written. CHANGELOG.md's newest released heading must name both (a
/// system test compares them with `berth --version`).
enum BerthVersion {
    static let release = "0.2.0"

    /// `berth --version`: "berth 0.2.0 (plugin ABI 1.2)".
    static var line: String { "berth \(release) (plugin ABI \(PluginLoader.hostABI))" }
}
