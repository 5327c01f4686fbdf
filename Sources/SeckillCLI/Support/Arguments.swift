/// What a command accepts, for parsing and for its `--help` text.
struct CommandSpec {
    /// `slot`, `config check`, ...
    let name: String
    /// One line: what the command does.
    let summary: String
    /// `[--config FILE] [--json] [--] KEY...`
    let usage: String
    /// Options that take a value: name (with dashes) and help.
    var options: [(String, String)] = []
    /// Options without a value.
    var flags: [(String, String)] = []
    /// More text after the options.
    var details: String = ""

    var help: String {
        var lines = ["Usage: seckill \(name) \(usage)", "", summary]
        let all = options + flags + [("--help", "Show this help.")]
        if !all.isEmpty {
            lines.append("")
            lines.append("Options:")
            let width = all.map { $0.0.count }.max() ?? 0
            for (name, text) in all {
                let value = options.contains { $0.0 == name } ? " " + Self.metavariable(text) : ""
                lines.append("  " + (name + value).padding(width + 8) + "  " + text)
            }
        }
        if !details.isEmpty {
            lines.append("")
            lines.append(details)
        }
        return lines.joined(separator: "\n")
    }

    private static func metavariable(_ help: String) -> String {
        // The help text starts with the value's name in capitals: "FILE: ..." -> FILE.
        let head = help.prefix { $0 != ":" }
        return head.allSatisfy({ $0.isUppercase || $0 == "_" }) && !head.isEmpty ? String(head) : "VALUE"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Parsed command-line arguments of one command.
struct Arguments {
    let command: String
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positionals: [String] = []
    /// True when `--help` or `-h` was given.
    private(set) var wantsHelp = false

    /// Parses `arguments` against `spec`: `--name value`, `--name=value`, flags, and
    /// positionals; `--` ends the options so positionals may start with `-`.
    init(_ arguments: [String], spec: CommandSpec) throws(CLIError) {
        command = spec.name
        let valueNames = Set(spec.options.map(\.0))
        let flagNames = Set(spec.flags.map(\.0))
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if argument == "--help" || argument == "-h" {
                wantsHelp = true
                continue
            }
            var name = argument
            var inline: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            if valueNames.contains(name) {
                if let inline {
                    values[name] = inline
                } else if index < arguments.count {
                    values[name] = arguments[index]
                    index += 1
                } else {
                    throw CLIError.usage(spec.name, "\(name) needs a value")
                }
            } else if flagNames.contains(name) {
                if inline != nil { throw CLIError.usage(spec.name, "\(name) takes no value") }
                flags.insert(name)
            } else if Int(argument) != nil || Double(argument) != nil {
                positionals.append(argument)
            } else {
                throw CLIError.usage(spec.name, "unknown option \(name)")
            }
        }
    }

    /// The value of option `name`, if given.
    func value(_ name: String) -> String? { values[name] }

    /// True when flag `name` was given.
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// An integer option within `range`, or `defaultValue` when absent.
    func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(CLIError) -> Int {
        guard let text = values[name] else { return defaultValue }
        let cleaned = text.filter { $0 != "_" && $0 != "," }
        guard let value = Int(cleaned), range.contains(value) else {
            throw CLIError.usage(command, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    /// A required integer option within `range`.
    func requiredInteger(_ name: String, in range: ClosedRange<Int>) throws(CLIError) -> Int {
        guard values[name] != nil else { throw CLIError.usage(command, "\(name) is required") }
        return try integer(name, default: 0, in: range)
    }

    /// Fails when positionals were given to a command that takes none.
    func noPositionals() throws(CLIError) {
        if let first = positionals.first {
            throw CLIError.usage(command, "unexpected argument \"\(first)\"")
        }
    }
}
