extension ClusterConfig {
    /// cluster.json as this layer reads it, with its problems collected instead of thrown,
    /// so a layer above can add the problems of the sections it owns (``sections``) and
    /// report them all at once, checking its own fields against this layer's only where
    /// those are valid (``hasFailed(_:)``).
    public struct Reading: Sendable {
        /// The config as far as it decoded: a field that failed holds a placeholder.
        public let config: ClusterConfig
        /// Every problem this layer found, each naming the source and field; empty when
        /// the routing part of the file is valid.
        public let problems: [String]
        /// The paths of the fields that failed to decode or to validate.
        public let failedPaths: Set<String>

        /// Whether `path` (`timeouts.commandMs`), or the section holding it (`timeouts`),
        /// had a problem, so its value must not be compared with anything.
        ///
        /// - Parameter path: A field's path.
        /// - Returns: Whether a problem was reported there.
        public func hasFailed(_ path: String) -> Bool {
            ProblemList(source: config.source, failedPaths: failedPaths).hasFailed(path)
        }

        /// The config, when this layer found no problem.
        ///
        /// - Returns: ``config``.
        /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalid`` listing ``problems``.
        public func validated() throws(ConfigError) -> ClusterConfig {
            guard problems.isEmpty else { throw ConfigError(.invalid, problems: problems) }
            return config
        }
    }

    /// Reads a cluster.json file and checks this layer's part of it, without throwing for
    /// the problems of its content.
    ///
    /// - Parameter path: The file's path; it prefixes every message.
    /// - Returns: The config as far as it decoded, and every problem.
    /// - Throws: ``ConfigError`` when the file is missing (``ConfigError/Code/fileNotFound``),
    ///   unreadable (``ConfigError/Code/unreadable``) or not JSON (``ConfigError/Code/syntax``).
    public static func read(path: String) throws(ConfigError) -> Reading {
        try read(try ConfigFile.contents(ofPath: path), source: path)
    }

    /// Reads cluster.json content and checks this layer's part of it, without throwing for
    /// the problems of its content.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 JSON document.
    ///   - source: The name prefixing every message, normally the file path.
    /// - Returns: The config as far as it decoded, and every problem.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/syntax`` for malformed JSON.
    public static func read(_ bytes: [UInt8], source: String) throws(ConfigError) -> Reading {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw ConfigError(.syntax, "\(source): \(error)")
        }
        var decoder = ConfigDecoder(source: source)
        let config = decoder.decode(document)
        let list = config.validationList(skipping: decoder.failedPaths, checkCoverage: decoder.coverageCheckable)
        return Reading(
            config: config, problems: decoder.problems + list.problems, failedPaths: decoder.failedPaths.union(list.reportedPaths))
    }

    /// This config checked the way ``read(_:source:)`` checks a file, for a config built in code.
    public var reading: Reading {
        let list = validationList(skipping: [], checkCoverage: true)
        return Reading(config: self, problems: list.problems, failedPaths: list.reportedPaths)
    }
}
