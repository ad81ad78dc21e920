import Foundation
import XCTest

/// Keeps the benchmark itself working: runs `Benchmarks/run --quick` on the
/// debug products `swift test` has just built, and checks that every
/// measurement produced a figure and that no request failed. Timings are
/// not asserted: a debug build on a shared machine says nothing about speed.
final class BenchmarkSmokeTests: XCTestCase {
    private static let timeoutSeconds = 120.0

    func testQuickRunProducesEveryFigureWithoutErrors() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // The test bundle sits beside berth and the plugin libraries.
        let products = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .deletingLastPathComponent()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("berth-bench-smoke-\(getpid()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }

        let process = Process()
        process.executableURL = root.appendingPathComponent("Benchmarks/run")
        process.arguments = ["--quick", "--debug", "--bin-dir", products.path]
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(Self.timeoutSeconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning {
            process.terminate() // the script's trap stops what it started
            process.waitUntilExit()
            XCTFail("Benchmarks/run --quick took over \(Int(Self.timeoutSeconds)) s")
        }
        try output.close()
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, "Benchmarks/run --quick failed:\n\(text.suffix(4000))")

        let rows = table(in: text)
        func row(_ prefix: String) -> [String]? {
            guard let row = rows.first(where: { $0[0].hasPrefix(prefix) }) else {
                XCTFail("no row \"\(prefix)\" in:\n\(text.suffix(4000))")
                return nil
            }
            return row
        }
        for workload in ["L1", "L16", "P16", "O16"] {
            for plugin in ["cecho", "greeter"] {
                guard let cells = row("\(workload) \(plugin) req/s") else { continue }
                XCTAssertGreaterThan(leadingNumber(cells[1]) ?? 0, 0, "Berth figure: \(cells)")
                XCTAssertGreaterThan(leadingNumber(cells[2]) ?? 0, 0, "baseline figure: \(cells)")
                XCTAssertEqual(cells[6], "0 / 0", "errors: \(cells)")
            }
        }
        for measure in ["L1 cecho latency", "L1 greeter latency", "reload: SIGHUP", "reload: the same, max",
                        "start-up: ", "start-up, ", "memory, 1 plugin(s), idle: host", "memory, 1 plugin(s), idle: worker",
                        "memory, 3 plugin(s), idle: worker", "memory: greeter"] {
            guard let cells = row(measure) else { continue }
            XCTAssertGreaterThan(leadingNumber(cells[1]) ?? 0, 0, "figure: \(cells)")
        }
        if let cells = row("reload: failed requests") {
            XCTAssertTrue(cells[1].hasPrefix("0 of "), "requests failed during reloads: \(cells)")
            XCTAssertGreaterThan(leadingNumber(String(cells[1].dropFirst(5))) ?? 0, 0, "the load during reloads ran: \(cells)")
        }
    }

    /// The markdown table's rows, as trimmed cells (header and rule excluded).
    private func table(in text: String) -> [[String]] {
        text.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| measure ") }.map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    private func leadingNumber(_ cell: String) -> Double? {
        Double(cell.prefix { $0.isNumber || $0 == "." })
    }
}
