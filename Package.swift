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

        // Host, one module per concern, lowest first: each depends only on
        // modules above it in this list.
        .target(name: "CBerthShims", path: "Host/Shims"),
        // Thin typed wrappers over syscalls: descriptors, sockets, processes, signals, epoll.
        .target(name: "BerthPOSIX", dependencies: ["CBerthShims"], path: "Host/POSIX", swiftSettings: requestPath),
        // JSON over raw bytes: the fast walk, its explainer, a small tree for documents.
        .target(name: "BerthJSON", dependencies: ["CBerthShims"], path: "Host/JSON", swiftSettings: requestPath),
        // What every process of the host shares: the log, counters in shared memory, hashing.
        .target(name: "BerthSupport", dependencies: ["BerthPOSIX", "BerthJSON", "CBerthShims"], path: "Host/Support", swiftSettings: requestPath),
        // The wire protocol: framing, the request envelope, answers, the server and the client.
        .target(name: "BerthWire", dependencies: ["BerthPOSIX", "BerthSupport", "BerthJSON"], path: "Host/Wire", swiftSettings: requestPath),
        // Matching a method and path to a route; nothing else.
        .target(name: "BerthRouter", dependencies: ["BerthWire"], path: "Host/Router", swiftSettings: requestPath),
        // Tokens, the tokens file, and the admission check every server runs before a route.
        .target(name: "BerthAuth", dependencies: ["BerthPOSIX", "BerthSupport", "BerthWire", "BerthRouter"],
                path: "Host/Auth", swiftSettings: requestPath),
        // The typed host <-> worker channel: its messages, their codec and framing, the inherited descriptors.
        .target(name: "BerthChannel", dependencies: ["BerthPOSIX", "BerthWire", "BerthAuth"], path: "Host/Channel"),
        // Calls between plugins, the caller's side: connections to a callee's instances, deadlines, retries, the breaker.
        .target(name: "BerthCalls", dependencies: ["BerthPOSIX", "BerthSupport", "BerthJSON", "BerthWire", "BerthRouter", "BerthChannel"],
                path: "Host/Calls", swiftSettings: requestPath),
        .target(name: "BerthWorker",
                dependencies: ["BerthPOSIX", "BerthSupport", "BerthJSON", "BerthWire", "BerthRouter", "BerthAuth",
                               "BerthChannel", "BerthCalls", "CBerth", "CBerthShims"],
                path: "Host/Worker", swiftSettings: requestPath),
        .target(name: "BerthSupervisor",
                dependencies: ["BerthPOSIX", "BerthSupport", "BerthJSON", "BerthWire", "BerthAuth", "BerthChannel", "CBerthShims"],
                path: "Host/Supervisor"),
        .target(name: "BerthControl",
                dependencies: ["BerthPOSIX", "BerthSupport", "BerthJSON", "BerthWire", "BerthRouter", "BerthAuth",
                               "BerthSupervisor"],
                path: "Host/Control"),
        .executableTarget(name: "BerthCLI",
                          dependencies: ["BerthPOSIX", "BerthSupport", "BerthJSON", "BerthWire", "BerthAuth", "BerthWorker",
                                         "BerthSupervisor", "BerthControl"],
                          path: "Host/CLI"),

        // Example plugins.
        .target(name: "GreeterPlugin", dependencies: ["BerthSDK"], path: "Plugins/Greeter"),
        .target(name: "CEchoPlugin", dependencies: ["CBerth"], path: "Plugins/CEcho"),

        // Seconds, no processes: the state machines, codecs, JSON, Wire, Router, SDK.
        .testTarget(name: "UnitTests",
                    dependencies: ["BerthPOSIX", "BerthSupport", "BerthJSON", "BerthWire", "BerthRouter", "BerthAuth",
                                   "BerthChannel", "BerthCalls", "BerthSupervisor", "BerthSDK", "CBerth"],
                    path: "Tests/UnitTests"),
        // The real berth binary, real plugins in real workers, real sockets and real client programs.
        .testTarget(name: "SystemTests", path: "Tests/SystemTests", exclude: ["FrozenHeaders"]),
    ]
)

// The fuzz target (Fuzz/run): declared only when BERTH_FUZZ is set, so the
// normal swift build and swift test never compile or link it. It has no
// main: libFuzzer's, linked in by --sanitize=fuzzer, drives it.
if Context.environment["BERTH_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "BerthFuzz",
                                             dependencies: ["BerthJSON", "BerthWire", "BerthRouter", "BerthChannel"],
                                             path: "Fuzz/Sources"))
}
