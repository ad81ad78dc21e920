import Foundation

/// The fenced code blocks of a Markdown file, with the marker that says
/// whether a test runs them. A command block is run unless the line before
/// its fence says why not:
///
///     <!-- run -->                    the block runs in RunnableDocsTests
///     <!-- not run: needs systemd --> the block is shown only, for the reason given
///
/// Every fence names its language. Command blocks are `sh` (or `shell`,
/// `bash`); anything else (`text`, `json`, `c`, `swift`) is shown only. So a
/// command pasted into the docs without a marker fails the test instead of
/// going stale unnoticed.
struct DocBlock: Equatable {
    enum Marker: Equatable {
        case run
        case notRun(reason: String)
        case none
    }

    let file: String
    /// The line of the opening fence, counting from 1.
    let line: Int
    let language: String
    let text: String
    let marker: Marker

    static let commandLanguages: Set<String> = ["sh", "shell", "bash"]
    var isCommands: Bool { DocBlock.commandLanguages.contains(language) }
    var place: String { "\(file):\(line)" }
}

enum DocBlocks {
    struct Parsed {
        var blocks: [DocBlock] = []
        /// What an author must fix, each naming its file and line.
        var problems: [String] = []
    }

    static let runMarker = "<!-- run -->"
    static let notRunPrefix = "<!-- not run:"

    static func parse(_ markdown: String, file: String) -> Parsed {
        var parsed = Parsed()
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        var pendingMarker: (marker: DocBlock.Marker, line: Int)?
        while index < lines.count {
            let trimmed = lines[index].trimmingCharacters(in: .whitespaces)
            if let marker = marker(in: trimmed, file: file, line: index + 1, problems: &parsed.problems) {
                if let pending = pendingMarker {
                    parsed.problems.append("\(file):\(pending.line): marker is not followed by a fenced block")
                }
                pendingMarker = (marker, index + 1)
                index += 1
                continue
            }
            guard trimmed.hasPrefix("```") else {
                if !trimmed.isEmpty, let pending = pendingMarker {
                    parsed.problems.append("\(file):\(pending.line): marker is not followed by a fenced block")
                    pendingMarker = nil
                }
                index += 1
                continue
            }
            let fence = String(trimmed.prefix { $0 == "`" })
            let language = trimmed.dropFirst(fence.count).trimmingCharacters(in: .whitespaces)
            let opening = index + 1
            var body: [String] = []
            index += 1
            while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces) != fence {
                body.append(lines[index])
                index += 1
            }
            if index == lines.count {
                parsed.problems.append("\(file):\(opening): fenced block is never closed")
            }
            index += 1
            let block = DocBlock(file: file, line: opening, language: language,
                                 text: dedent(body).joined(separator: "\n"),
                                 marker: pendingMarker?.marker ?? .none)
            pendingMarker = nil
            parsed.blocks.append(block)
            if language.isEmpty {
                parsed.problems.append("\(block.place): fenced block names no language; use sh for commands "
                                       + "(marked <!-- run --> or <!-- not run: reason -->), text, json, c or swift for the rest")
            } else if block.isCommands && block.marker == .none {
                parsed.problems.append("\(block.place): \(language) block is not marked; put <!-- run --> on the line before "
                                       + "its fence, or <!-- not run: why --> if a test cannot run it")
            } else if !block.isCommands && block.marker != .none {
                parsed.problems.append("\(block.place): only sh blocks are run; this one is \(language), so drop its marker")
            }
        }
        if let pending = pendingMarker {
            parsed.problems.append("\(file):\(pending.line): marker is not followed by a fenced block")
        }
        return parsed
    }

    private static func marker(in line: String, file: String, line number: Int, problems: inout [String]) -> DocBlock.Marker? {
        if line == runMarker { return .run }
        guard line.hasPrefix(notRunPrefix), line.hasSuffix("-->") else { return nil }
        let reason = line.dropFirst(notRunPrefix.count).dropLast(3).trimmingCharacters(in: .whitespaces)
        if reason.isEmpty {
            problems.append("\(file):\(number): <!-- not run: --> needs a reason, e.g. <!-- not run: needs systemd -->")
        }
        return .notRun(reason: reason)
    }

    /// Blocks inside a list item are indented; the shell does not care, but
    /// a heredoc's terminator must start its line.
    private static func dedent(_ lines: [String]) -> [String] {
        let indents = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.prefix { $0 == " " }.count }
        let common = indents.min() ?? 0
        return lines.map { $0.count >= common ? String($0.dropFirst(common)) : $0 }
    }

    /// One bash script that runs `blocks` in order in one shell, so a block
    /// can use what an earlier one made (a directory, a variable, `cd`). It
    /// stops at the first failing command; `stateFile` then holds the
    /// number of the block that was running.
    static func script(for blocks: [DocBlock], stateFile: String) -> String {
        var script = """
        set -e -o pipefail
        berth_docs_block=start
        trap 'echo "$berth_docs_block" > \(shellQuoted(stateFile))' EXIT

        """
        for (number, block) in blocks.enumerated() {
            script += "\n# \(block.place)\nberth_docs_block=\(number)\necho \"\(promptLine(block))\"\n"
            script += block.text + "\n"
        }
        script += "\nberth_docs_block=done\n"
        return script
    }

    private static func promptLine(_ block: DocBlock) -> String {
        "----- \(block.place)"
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
