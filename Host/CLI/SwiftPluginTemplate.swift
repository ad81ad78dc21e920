/// The files of a Swift plugin package made by `berth new NAME --swift`:
/// a dynamic library product with one route, and a test target that runs
/// requests through the plugin in-process (BerthSDK's PluginTestClient).
/// Written in the style of Plugins/Greeter.
enum SwiftPluginTemplate {
    static func files(_ name: NewPluginName, checkout: BerthCheckout) -> [GeneratedFile] {
        let product = name.productName
        return [
            GeneratedFile(path: "Package.swift", contents: packageManifest(name, checkout: checkout)),
            GeneratedFile(path: "Sources/\(product)/\(product).swift", contents: source(name)),
            GeneratedFile(path: "Tests/\(product)Tests/\(product)Tests.swift", contents: tests(name)),
            GeneratedFile(path: ".gitignore", contents: ".build/\nPackage.resolved\n"),
        ]
    }

    static func packageManifest(_ name: NewPluginName, checkout: BerthCheckout) -> String {
        let product = name.productName
        return #"""
        // swift-tools-version:5.10
        // The Berth plugin "\#(name.name)".
        // Test it in-process, no host needed: swift test
        // Build it: swift build --product \#(product)   (makes .build/debug/lib\#(product).so)
        // Deploy it: copy that file into the host's plugins folder, then berth reload
        import PackageDescription

        let package = Package(
            name: "\#(name.name)",
            products: [
                // type: .dynamic is what makes a .so: without it the build reports
                // success and leaves no lib\#(product).so. A product name must be unique
                // among this package and its dependencies (Berth's examples are
                // GreeterPlugin and CEchoPlugin).
                .library(name: "\#(product)", type: .dynamic, targets: ["\#(product)"]),
            ],
            dependencies: [
                // The Berth checkout this package was made from. Its identity, which
                // `package:` below names, is the folder's last path component.
                // For a released Berth instead, use its git URL and the version
                // `berth --version` prints, and name the URL's last component
                // (without .git) in `package:` below:
                // .package(url: "https://.../berth.git", from: "X.Y.Z"),
                .package(path: "\#(swiftLiteral(checkout.root))"),
            ],
            targets: [
                // Sources are found in Sources/<target name>. A plugin target added inside
                // Berth's own repository needs path: (as Plugins/Greeter has).
                .target(name: "\#(product)",
                        dependencies: [.product(name: "BerthSDK", package: "\#(swiftLiteral(checkout.packageIdentity))")]),
                .testTarget(name: "\#(product)Tests",
                            dependencies: ["\#(product)", .product(name: "BerthSDK", package: "\#(swiftLiteral(checkout.packageIdentity))")]),
            ]
        )

        """#
    }

    /// The inside of a Swift string literal: a folder's name may hold a
    /// quote or a backslash.
    static func swiftLiteral(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "\"" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    static func source(_ name: NewPluginName) -> String {
        #"""
        import BerthSDK

        struct Hello: Codable { let hello: String }

        let plugin = Plugin(name: "\#(name.name)", version: "0.1.0") { routes in
            // public: true admits callers without a token; drop it to require one.
            routes.get("/hello/{name}", public: true) { request in
                // The parameter arrives percent-decoded; the encoder escapes it.
                Hello(hello: request.parameters["name"] ?? "")
            }
        }

        // The one symbol the host looks up in the library.
        @_cdecl("berth_plugin_entry")
        public func berthPluginEntry() -> UnsafeRawPointer { plugin.descriptor }

        """#
    }

    static func tests(_ name: NewPluginName) -> String {
        #"""
        import BerthSDK
        @testable import \#(name.moduleName)
        import XCTest

        /// Requests run through the plugin's routes in this process, answered as
        /// the host would answer them (routing, parameters, errors): no host runs.
        final class \#(name.moduleName)Tests: XCTestCase {
            func testHelloAnswersWithTheName() throws {
                let response = try PluginTestClient(plugin).call("GET", "/hello/bob")
                XCTAssertEqual(response.status, 200, response.line)
                XCTAssertEqual(try response.decode(Hello.self).hello, "bob")
            }

            func testHelloEscapesTheName() throws {
                // %22 is a double quote: decoded in the parameter, escaped in the answer.
                let response = try PluginTestClient(plugin).call("GET", "/hello/a%22b")
                XCTAssertEqual(response.status, 200, response.line)
                XCTAssertEqual(response.dataJSON, #"{"hello":"a\"b"}"#)
            }

            func testAnUnknownPathIsNotFound() throws {
                let response = try PluginTestClient(plugin).call("GET", "/nothing")
                XCTAssertEqual(response.status, 404, response.line)
            }
        }

        """#
    }
}
