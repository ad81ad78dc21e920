import Foundation
import XCTest

/// `berth new`: a package it makes builds, passes its own tests, deploys
/// into a running host with `berth reload` and answers, with no edit, in
/// Swift and in C (issue 16's "done when"). And the mistakes it refuses.
final class NewPluginTests: BerthTestCase {
    /// Where packages are made: inside the sandbox, so tearDown removes them.
    var sources: String { sandbox.root + "/src" }

    func testSwiftPackageBuildsTestsDeploysAndAnswers() throws {
        // The nested swift build is not what a sanitizer checks, and
        // compiling BerthSDK instrumented twice would take minutes.
        if ProcessProbe.underSanitizer { throw XCTSkip("the Swift package build is skipped under a sanitizer") }
        try startHost()
        // No --sdk: the package depends on the checkout this berth was built in.
        let made = try berth(["new", "my-kv", "--dir", sources])
        XCTAssertEqual(made.status, 0, made.stderr)
        let package = sources + "/my-kv"

        try run("swift", ["build", "--package-path", package, "--product", "MyKvPlugin"])
        try run("swift", ["test", "--package-path", package])

        try deploy(package + "/.build/debug/libMyKvPlugin.so", answeringAs: "my-kv")
    }

    func testCPackageBuildsTestsDeploysAndAnswers() throws {
        try startHost()
        let made = try berth(["new", "c-kv", "--c", "--dir", sources, "--sdk", PluginBuilder.repositoryRoot])
        XCTAssertEqual(made.status, 0, made.stderr)
        let package = sources + "/c-kv"

        try run("make", ["-C", package])
        // make test runs test.sh through `berth try`, with the berth that made the package.
        let tested = try run("make", ["-C", package, "test"])
        XCTAssertTrue(tested.stdout.contains(#"ok    1: {"id":null,"status":200,"data":{"hello":"bob"}}"#), tested.stdout)

        try deploy(package + "/libc-kv.so", answeringAs: "c-kv")
    }

    /// The names a package gets from NAME, read from the files (building
    /// them is what the two tests above do for one name each).
    func testSwiftNamesFollowTheNamingRule() throws {
        XCTAssertEqual(try berth(["new", "my--kv2", "--dir", sources]).status, 0)
        let manifest = try String(contentsOfFile: sources + "/my--kv2/Package.swift", encoding: .utf8)
        XCTAssertTrue(manifest.contains(#".library(name: "MyKv2Plugin", type: .dynamic, targets: ["MyKv2Plugin"])"#), manifest)
        let source = try String(contentsOfFile: sources + "/my--kv2/Sources/MyKv2Plugin/MyKv2Plugin.swift", encoding: .utf8)
        XCTAssertTrue(source.contains(#"Plugin(name: "my--kv2""#), source)

        // SwiftPM names the module of a target starting with a digit with
        // an underscore in its place: the test must import that.
        XCTAssertEqual(try berth(["new", "2fa", "--dir", sources]).status, 0)
        let tests = try String(contentsOfFile: sources + "/2fa/Tests/2faPluginTests/2faPluginTests.swift", encoding: .utf8)
        XCTAssertTrue(tests.contains("@testable import _faPlugin\n"), tests)
        XCTAssertTrue(tests.contains("final class _faPluginTests: XCTestCase"), tests)
    }

    func testRefusesANameThatIsNotAPluginName() throws {
        for bad in ["My-Kv", "my_kv", "-kv", "kv.so", String(repeating: "a", count: 65)] {
            let result = try berth(["new", bad, "--dir", sources])
            XCTAssertEqual(result.status, 1, "\(bad): \(result.stdout)")
            XCTAssertTrue(result.stderr.contains("NAME \"\(bad)\""), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: sources + "/" + bad), bad)
        }
        let wrongCase = try berth(["new", "My-Kv", "--dir", sources])
        XCTAssertTrue(wrongCase.stderr.contains("use lower-case letters, digits and dashes"), wrongCase.stderr)
    }

    func testRefusesAnExistingFolderAndKeepsItsFiles() throws {
        try FileManager.default.createDirectory(atPath: sources + "/kv", withIntermediateDirectories: true)
        try "mine".write(toFile: sources + "/kv/Package.swift", atomically: false, encoding: .utf8)
        let result = try berth(["new", "kv", "--dir", sources])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains("\(sources)/kv already exists: choose another NAME, another --dir, or remove it first"),
                      result.stderr)
        XCTAssertEqual(try String(contentsOfFile: sources + "/kv/Package.swift", encoding: .utf8), "mine")
    }

    func testWritesIntoTheCurrentFolderWithoutDir() throws {
        try FileManager.default.createDirectory(atPath: sources, withIntermediateDirectories: true)
        let result = try Command.run("/bin/sh", ["-c", #"cd "$1" && exec "$2" new kv --c"#, "sh", sources, BuildProducts.berth],
                                     environment: TestEnvironment.berth)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sources + "/kv/kv.c"), result.stdout)
    }

    func testRefusesADirItCannotCreate() throws {
        // A file where the folder would go: refused whoever runs the test, root included.
        try "".write(toFile: sandbox.root + "/file", atomically: false, encoding: .utf8)
        let result = try berth(["new", "kv", "--dir", sandbox.root + "/file/sub"])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains("cannot create \(sandbox.root)/file/sub/kv (mkdir(\(sandbox.root)/file/sub): Not a directory): choose a --dir you can write to"),
                      result.stderr)
    }

    func testRefusesAnSdkThatIsNotABerthCheckout() throws {
        let result = try berth(["new", "kv", "--dir", sources, "--sdk", sandbox.root])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains("give the root of a Berth checkout"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sources + "/kv"))
    }

    func testRefusesBothLanguages() throws {
        let result = try berth(["new", "kv", "--swift", "--c", "--dir", sources])
        XCTAssertEqual(result.status, 64, result.stdout)
        XCTAssertTrue(result.stderr.contains("--swift and --c cannot both be given"), result.stderr)
    }

    func testCPackageRefusesACheckoutPathAMakefileCannotUse() throws {
        let checkout = try fakeCheckout(named: "my sdk")
        let result = try berth(["new", "kv", "--c", "--dir", sources, "--sdk", checkout])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains("the Berth checkout is at \(checkout), whose \" \" a Makefile cannot use: move or link it to a path without one and pass that as --sdk"),
                      result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sources + "/kv"))
    }

    func testSwiftManifestQuotesTheCheckoutPath() throws {
        let checkout = try fakeCheckout(named: #"Q"sdk"#)
        XCTAssertEqual(try berth(["new", "kv", "--dir", sources, "--sdk", checkout]).status, 0)
        let manifest = try String(contentsOfFile: sources + "/kv/Package.swift", encoding: .utf8)
        XCTAssertTrue(manifest.contains(#".package(path: "\#(sandbox.root)/Q\"sdk"),"#), manifest)
        // SwiftPM's identity of a path dependency: the folder's name in lower case.
        XCTAssertTrue(manifest.contains(#".product(name: "BerthSDK", package: "q\"sdk")"#), manifest)
    }

    // MARK: helpers

    func berth(_ arguments: [String]) throws -> Command.Result {
        try Command.run(BuildProducts.berth, arguments, environment: TestEnvironment.berth)
    }

    /// Runs a build tool found on PATH; fails the test with its output unless it succeeds.
    @discardableResult
    func run(_ tool: String, _ arguments: [String]) throws -> Command.Result {
        // A cold build of BerthSDK on two busy cores: a deadline for a hang, not a target.
        let result = try Command.run("/usr/bin/env", [tool] + arguments, timeout: 900)
        guard result.status == 0 else {
            throw HarnessError("\(tool) \(arguments.joined(separator: " ")) exited with \(result.status):\n\(result.stdout)\n\(result.stderr)")
        }
        return result
    }

    /// A folder that passes for a Berth checkout (what `berth new` looks
    /// for), under a name a test chooses.
    func fakeCheckout(named name: String) throws -> String {
        let root = sandbox.root + "/" + name
        try FileManager.default.createDirectory(atPath: root + "/SDK/C/include", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: PluginBuilder.includeDirectory + "/berth.h", toPath: root + "/SDK/C/include/berth.h")
        try "// a stand-in for Berth's manifest\n".write(toFile: root + "/Package.swift", atomically: false, encoding: .utf8)
        return root
    }

    /// Copies the library into the running host's plugins folder, runs
    /// `berth reload`, and calls GET /hello/bob on the plugin's socket.
    func deploy(_ library: String, answeringAs name: String) throws {
        try sandbox.install(library)
        let reload = try berth(["reload", "--run-dir", sandbox.run])
        XCTAssertEqual(reload.status, 0, reload.stdout + reload.stderr)
        XCTAssertTrue(reload.stdout.contains("added"), reload.stdout)

        let response = try call(name, "GET", "/hello/bob")
        XCTAssertEqual(response.status, 200, response.line)
        XCTAssertEqual(response.dataObject?["hello"] as? String, "bob", response.line)
    }
}
