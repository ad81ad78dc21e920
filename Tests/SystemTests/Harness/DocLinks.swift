import Foundation

/// The relative links of a Markdown file and whether each one lands: the
/// file exists, and a `#fragment` names one of its headings. Moving a
/// section from one doc to another breaks links silently; this finds them.
enum DocLinks {
    /// Problems, each naming the file and the link; empty when all land.
    static func broken(in file: String, root: String) -> [String] {
        guard let text = try? String(contentsOfFile: root + "/" + file, encoding: .utf8) else {
            return ["\(file): cannot be read"]
        }
        let directory = (file as NSString).deletingLastPathComponent
        var problems: [String] = []
        for target in targets(in: text) where !target.contains("://") && !target.hasPrefix("mailto:") {
            let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let path = parts[0]
            let linked = path.isEmpty ? file : normalized(directory.isEmpty ? path : directory + "/" + path)
            guard FileManager.default.fileExists(atPath: root + "/" + linked) else {
                problems.append("\(file): link \(target): \(linked) does not exist")
                continue
            }
            guard parts.count == 2, linked.hasSuffix(".md") else { continue }
            let headings = (try? String(contentsOfFile: root + "/" + linked, encoding: .utf8)).map(anchors) ?? []
            if !headings.contains(parts[1]) {
                problems.append("\(file): link \(target): \(linked) has no heading #\(parts[1])")
            }
        }
        return problems
    }

    /// `](target)` outside fenced blocks and inline code.
    static func targets(in markdown: String) -> [String] {
        var targets: [String] = []
        for line in proseLines(markdown) {
            let prose = line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 0 }.map(\.element).joined(separator: " ")
            var rest = Substring(prose)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                let target = String(after[..<close])
                if !target.isEmpty, !target.contains(" ") { targets.append(target) }
                rest = after[close...]
            }
        }
        return targets
    }

    /// GitHub's anchors: a heading lowercased, punctuation other than `-`
    /// and `_` dropped, spaces made dashes.
    static func anchors(_ markdown: String) -> Set<String> {
        Set(proseLines(markdown).filter { $0.hasPrefix("#") }.map { line in
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            return String(title.unicodeScalars.compactMap { scalar -> Character? in
                if scalar == " " { return "-" }
                if scalar == "-" || scalar == "_" || CharacterSet.alphanumerics.contains(scalar) { return Character(scalar) }
                return nil
            })
        })
    }

    private static func proseLines(_ markdown: String) -> [String] {
        var inFence = false
        var lines: [String] = []
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inFence.toggle()
                continue
            }
            if !inFence { lines.append(String(line)) }
        }
        return lines
    }

    private static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", !parts.isEmpty, parts.last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }
}
