// swift-tools-version:5.10
// Berth: a plugin host. No external packages, by design: only the toolchain.
import PackageDescription

// The request path (event loop, wire, router, worker) runs per request in a single
// thread and is written so that no access conflicts; the runtime's dynamic
// exclusivity checks cost about 6% of a worker's time under load (measured
// with perf), so release builds of those modules leave them out. Debug
// builds, and so every test run, keep them.
let requestPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Berth",
    products: [
        .executable(name: "berth", targets: ["BerthCLI"]),
        .library(name: "BerthSDK", targets: ["BerthSDK"]),
        // Example services: each is a dynamic library dropped into plugins.d/.
        .library(name: "GreeterPlugin", type: .dynamic, targets: ["GreeterPlugin"]),
        .library(name: "CEchoPlugin", type: .dynamic, targets: ["CEchoPlugin"]),
    ],
    targets: [
        // SDK: the C ABI (the contract) and the Swift layer over it.
        .target(name: "CBerth", path: "SDK/C"),
        .target(name: "BerthSDK", dependencies: ["CBerth"], path: "SDK/Swift"),

        // Host, one module per concern, lowest first.
        .target(name: "CBerthShims", path: "Host/Shims"),
        .target(name: "BerthPOSIX", dependencies: ["CBerthShims"], path: "Host/POSIX", swiftSettings: requestPath),
        .target(name: "BerthWire", dependencies: ["BerthPOSIX"], path: "Host/Wire", swiftSettings: requestPath),
        .target(name: "BerthRouter", dependencies: ["BerthWire"], path: "Host/Router", swiftSettings: requestPath),
        .target(name: "BerthWorker",
                dependencies: ["BerthPOSIX", "BerthWire", "BerthRouter", "CBerth", "CBerthShims"],
                path: "Host/Worker", swiftSettings: requestPath),
        .target(name: "BerthSupervisor",
                dependencies: ["BerthPOSIX", "BerthWire", "CBerthShims"],
                path: "Host/Supervisor"),
        .target(name: "BerthControl",
                dependencies: ["BerthPOSIX", "BerthWire", "BerthRouter", "BerthSupervisor"],
                path: "Host/Control"),
        .executableTarget(name: "BerthCLI",
                          dependencies: ["BerthPOSIX", "BerthWire", "BerthWorker",
                                         "BerthSupervisor", "BerthControl"],
                          path: "Host/CLI"),

        // Example plugins.
        .target(name: "GreeterPlugin", dependencies: ["BerthSDK"], path: "Plugins/Greeter"),
        .target(name: "CEchoPlugin", dependencies: ["CBerth"], path: "Plugins/CEcho"),

        .testTarget(name: "BerthTests",
                    dependencies: ["BerthWire", "BerthRouter", "BerthSDK"],
                    path: "Tests/BerthTests"),
    ]
)

// The fuzz target (Fuzz/run): declared only when BERTH_FUZZ is set, so the
// normal swift build and swift test never compile or link it. It has no
// main: libFuzzer's, linked in by --sanitize=fuzzer, drives it.
if Context.environment["BERTH_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "BerthFuzz",
                                             dependencies: ["BerthWire", "BerthRouter"],
                                             path: "Fuzz/Sources"))
}
