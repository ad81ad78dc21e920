/// Hand-rolled option parsing (no external packages): `--name value`,
/// `--name=value` and positional arguments.
struct Arguments {
    private(set) var options: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// `valued` lists the options that take a value; any other `--x` is a flag.
    init(_ arguments: [String], valued: Set<String>, flags allowed: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if valued.contains(name) {
                if value == nil {
                    guard index < arguments.count else { throw Problem(description: "--\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                options[name] = value
            } else if allowed.contains(name) && value == nil {
                flags.insert(name)
            } else {
                throw Problem(description: "unknown option --\(name)")
            }
        }
    }

    func number(_ name: String) throws -> Double? {
        guard let text = options[name] else { return nil }
        // Bounded, so converting to Int can never trap ("--instances 1e30").
        guard let value = Double(text), value >= 0, value <= 1e9 else {
            throw Problem(description: "--\(name) needs a non-negative number up to 1000000000, not \"\(text)\"")
        }
        return value
    }
}
