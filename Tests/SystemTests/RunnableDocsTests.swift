import Foundation
import Glibc
import XCTest

/// The commands in README.md and docs/*.md run as written, so a pasted
/// snippet always works. Each file's `<!-- run -->` blocks run in order in
/// one bash, in a sandbox laid out like the checkout's root (DocBlocks.swift
/// says how blocks are marked):
///
///     plugins.d/          the example plugins (libGreeterPlugin.so, libCEchoPlugin.so)
///     run/                the run directory of a berth serve the test started on plugins.d
///     .build/debug        -> this build's products, and on PATH, so `berth` and `.build/debug/berth` both work
///     SDK, Plugins        -> the checkout's, so `cc -I SDK/C/include Plugins/CEcho/cecho.c` works
///
/// Blocks that run `berth new` or `berth try` build what those make
/// (`swift build`, `make`), so this test is slow: minutes, most of it the
/// Swift plugin `berth new` makes.
final class RunnableDocsTests: BerthTestCase {
    /// Every Markdown file a user reads: README.md and docs/*.md.
    static var documentationFiles: [String] {
        let root = PluginBuilder.repositoryRoot
        let docs = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/docs")) ?? [])
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return ["README.md"] + docs
    }

    static func parse(_ file: String) throws -> DocBlocks.Parsed {
        let text = try String(contentsOfFile: PluginBuilder.repositoryRoot + "/" + file, encoding: .utf8)
        return DocBlocks.parse(text, file: file)
    }

    /// Every command block either runs or says why not, and every fence
    /// names its language: an unmarked `sh` block fails here.
    func testEveryCommandBlockIsRunOrSaysWhyNot() throws {
        var problems: [String] = []
        var runnable = 0
        for file in Self.documentationFiles {
            let parsed = try Self.parse(file)
            problems += parsed.problems
            runnable += parsed.blocks.filter { $0.marker == .run }.count
        }
        XCTAssertEqual(problems, [], "fix these blocks:\n" + problems.joined(separator: "\n"))
        XCTAssertGreaterThan(runnable, 0, "no block in README.md or docs/ is marked <!-- run -->")
    }

    /// Every relative link in README.md and docs/ lands on a file, and on
    /// a heading of it when it names one: moving a section breaks none.
    func testEveryLinkLands() {
        let problems = Self.documentationFiles.flatMap { DocLinks.broken(in: $0, root: PluginBuilder.repositoryRoot) }
        XCTAssertEqual(problems, [], "fix these links:\n" + problems.joined(separator: "\n"))
        XCTAssertTrue(DocLinks.anchors("## Limits and privileges\n## The ABI in brief\n").contains("the-abi-in-brief"))
        XCTAssertEqual(DocLinks.targets(in: "see [a](x.md#y) and `[b](no.md)`\n```\n[c](z.md)\n```\n"), ["x.md#y"])
    }

    /// The marker rules themselves, on a small document.
    func testMarkersAreReadFromTheLineBeforeTheFence() {
        let markdown = """
        Intro.

        <!-- run -->
        ```sh
        berth status
        ```

        <!-- not run: needs systemd -->

        ```sh
        systemctl reload berth
        ```

        ```json
        {"a": 1}
        ```

        ```sh
        berth call greeter GET /hello/bob
        ```

        - in a list:

          <!-- run -->
          ```bash
          cat <<'EOF' > x
          y
          EOF
          ```

        ```
        bare
        ```

        <!-- run -->
        ```c
        int x;
        ```
        """
        let parsed = DocBlocks.parse(markdown, file: "t.md")
        XCTAssertEqual(parsed.blocks.map(\.marker), [.run, .notRun(reason: "needs systemd"), .none, .none, .run, .none, .run])
        XCTAssertEqual(parsed.blocks.map(\.line), [4, 10, 14, 18, 25, 31, 36])
        XCTAssertEqual(parsed.blocks[4].text, "cat <<'EOF' > x\ny\nEOF", "a list item's indentation is removed")
        XCTAssertEqual(parsed.problems.count, 3, parsed.problems.joined(separator: "\n"))
        XCTAssertTrue(parsed.problems[0].hasPrefix("t.md:18: sh block is not marked"), parsed.problems[0])
        XCTAssertTrue(parsed.problems[1].hasPrefix("t.md:31: fenced block names no language"), parsed.problems[1])
        XCTAssertTrue(parsed.problems[2].hasPrefix("t.md:36: only sh blocks are run"), parsed.problems[2])
    }

    func testRunnableBlocksRunAsWritten() throws {
        guard !ProcessProbe.underSanitizer else {
            throw XCTSkip("builds plugins with swift build and make; a sanitizer checks berth's code, not the docs")
        }
        var ranAny = false
        for (number, file) in Self.documentationFiles.enumerated() {
            let blocks = try Self.parse(file).blocks.filter { $0.marker == .run }
            guard !blocks.isEmpty else { continue }
            ranAny = true
            try run(blocks, of: file, in: sandbox.root + "/d\(number)")
        }
        XCTAssertTrue(ranAny, "no runnable blocks found")
    }

    /// Runs one file's blocks in a sandbox of their own, with a host serving
    /// the examples from its plugins.d.
    private func run(_ blocks: [DocBlock], of file: String, in directory: String) throws {
        let files = FileManager.default
        let plugins = directory + "/plugins.d"
        try files.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try files.createDirectory(atPath: directory + "/.build", withIntermediateDirectories: true)
        try files.createSymbolicLink(atPath: directory + "/.build/debug", withDestinationPath: BuildProducts.directory)
        for shared in ["SDK", "Plugins"] {
            try files.createSymbolicLink(atPath: directory + "/" + shared,
                                         withDestinationPath: PluginBuilder.repositoryRoot + "/" + shared)
        }
        try files.copyItem(atPath: BuildProducts.greeter, toPath: plugins + "/libGreeterPlugin.so")
        try files.copyItem(atPath: BuildProducts.cecho, toPath: plugins + "/libCEchoPlugin.so")

        let host = try BerthHost(pluginsDirectory: plugins, runDirectory: directory + "/run")
        defer {
            host.terminate()
        }
        _ = try host.waitUntilReady()

        let stateFile = directory + "/.block"
        let scriptFile = directory + "/.blocks.sh"
        try DocBlocks.script(for: blocks, stateFile: stateFile).write(toFile: scriptFile, atomically: false, encoding: .utf8)
        var environment = TestEnvironment.berth
        environment["PATH"] = BuildProducts.directory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        // The run dir comes from the sandbox's run/, as for a user in the checkout.
        environment["BERTH_RUN_DIR"] = nil
        let result = try Command.run("/bin/bash", ["-c", "cd " + DocBlocks.shellQuoted(directory) + " && . ./.blocks.sh"],
                                     environment: environment, timeout: 1500)
        guard result.status != 0 else { return }
        let state = (try? String(contentsOfFile: stateFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let failed = state.flatMap(Int.init).map { blocks[$0] }
        XCTFail("""
            \(failed.map { "the block at \($0.place) failed" } ?? "the blocks of \(file) failed") (exit \(result.status)):
            \(failed?.text ?? "")
            ----- output
            \(result.stdout)
            ----- errors
            \(result.stderr)
            ----- host log
            \(host.logText)
            """)
    }
}
