/// Why a cluster configuration (or a command-line value feeding one) was rejected.
///
/// Validation collects every problem it finds, so ``problems`` may hold many lines,
/// each naming the file and the field, e.g.
/// `cluster.json: nodes[1].port: 70000 is out of range 1-65535`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, for code that reacts differently to each.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case fileNotFound
            case unreadable
            case syntax
            case invalid
            case missingPassword
            case invalidArgument
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The configuration file does not exist.
        public static var fileNotFound: Code { Code(.fileNotFound) }
        /// The configuration file exists but could not be read.
        public static var unreadable: Code { Code(.unreadable) }
        /// The file is not well-formed JSON.
        public static var syntax: Code { Code(.syntax) }
        /// The JSON is well-formed but its content is wrong (types, ranges, slot coverage...).
        public static var invalid: Code { Code(.invalid) }
        /// The environment variable named by `auth.passwordEnv` is unset or empty.
        public static var missingPassword: Code { Code(.missingPassword) }
        /// A command-line value (node address, key pattern, node count) is malformed.
        public static var invalidArgument: Code { Code(.invalidArgument) }

        /// The code's name.
        public var description: String {
            switch base {
            case .fileNotFound: "file not found"
            case .unreadable: "unreadable"
            case .syntax: "syntax error"
            case .invalid: "invalid"
            case .missingPassword: "missing password"
            case .invalidArgument: "invalid argument"
            }
        }
    }

    /// The kind of failure.
    public let code: Code

    /// Every problem found, one complete sentence each, in document order.
    public let problems: [String]

    /// Creates an error; a layer that checks its own sections of cluster.json throws these too.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - problems: Every problem, each naming the file and the field.
    public init(_ code: Code, problems: [String]) {
        self.code = code
        self.problems = problems
    }

    /// Creates an error with one problem.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - problem: The problem, naming the file and the field.
    public init(_ code: Code, _ problem: String) {
        self.init(code, problems: [problem])
    }

    /// The problems, one per line.
    public var description: String {
        problems.joined(separator: "\n")
    }
}
