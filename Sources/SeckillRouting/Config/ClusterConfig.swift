/// The validated content of cluster.json: the Redis nodes with their slot ranges, pool
/// sizing, timeouts, credentials and database.
///
/// ```json
/// {
///   "nodes": [
///     {"name": "node-a", "host": "127.0.0.1", "port": 7000, "slots": [[0, 5460]]},
///     {"name": "node-b", "host": "127.0.0.1", "port": 7001, "slots": [[5461, 10922]]},
///     {"name": "node-c", "host": "127.0.0.1", "port": 7002, "slots": [[10923, 16383]]}
///   ],
///   "pool": {"connectionsPerNode": 2, "maxInFlightPerNode": 1024, "acquireTimeoutMs": 500},
///   "timeouts": {"connectMs": 1000, "commandMs": 1000},
///   "auth": {"username": "default", "passwordEnv": "SECKILL_REDIS_PASSWORD"}
/// }
/// ```
///
/// `nodes` is required; `pool`, `timeouts`, `auth` and `database` are optional (see
/// ``PoolSettings``, ``TimeoutSettings``, ``AuthSettings``; `database` defaults to 0).
/// Unknown fields are rejected. Load with ``load(path:)`` or ``parse(_:source:)``;
/// configs built in code are checked with ``validated()``.
public struct ClusterConfig: Sendable, Hashable {
    /// The nodes, in file order; together their slots cover 0-16383 exactly once.
    public var nodes: [NodeConfig]
    /// Pool sizing and timing.
    public var pool: PoolSettings
    /// Network timeouts.
    public var timeouts: TimeoutSettings
    /// Credentials, or `nil` to skip AUTH.
    public var auth: AuthSettings?
    /// The database number to SELECT after connecting (0 skips SELECT).
    public var database: Int
    /// Where the config came from (the path given to ``load(path:)``), used to prefix messages.
    public var source: String

    /// Creates a config in code; call ``validated()`` before use.
    ///
    /// - Parameters:
    ///   - nodes: The nodes and their slot ranges.
    ///   - pool: Pool settings.
    ///   - timeouts: Timeouts.
    ///   - auth: Credentials, or `nil`.
    ///   - database: The database number.
    ///   - source: A name for messages, e.g. a file path.
    public init(
        nodes: [NodeConfig],
        pool: PoolSettings = .defaults,
        timeouts: TimeoutSettings = .defaults,
        auth: AuthSettings? = nil,
        database: Int = 0,
        source: String = "cluster config"
    ) {
        self.nodes = nodes
        self.pool = pool
        self.timeouts = timeouts
        self.auth = auth
        self.database = database
        self.source = source
    }

    /// Reads, parses and validates a cluster.json file.
    ///
    /// - Parameter path: The file's path; it prefixes every message.
    /// - Returns: The validated config.
    /// - Throws: ``ConfigError`` when the file is missing (``ConfigError/Code/fileNotFound``),
    ///   unreadable (``ConfigError/Code/unreadable``), not JSON (``ConfigError/Code/syntax``)
    ///   or wrong (``ConfigError/Code/invalid``, listing every problem).
    public static func load(path: String) throws(ConfigError) -> ClusterConfig {
        let bytes = try ConfigFile.contents(ofPath: path)
        return try parse(bytes, source: path)
    }

    /// Parses and validates cluster.json content.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 JSON document.
    ///   - source: The name prefixing every message, normally the file path.
    /// - Returns: The validated config.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/syntax`` for malformed JSON
    ///   (with line and column) or ``ConfigError/Code/invalid`` listing every problem.
    public static func parse(_ bytes: [UInt8], source: String) throws(ConfigError) -> ClusterConfig {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw ConfigError(.syntax, "\(source): \(error)")
        }
        var decoder = ConfigDecoder(source: source)
        let config = decoder.decode(document)
        var problems = decoder.problems
        problems += config.validationProblems(skipping: decoder.failedPaths, checkCoverage: decoder.coverageCheckable)
        guard problems.isEmpty else {
            throw ConfigError(.invalid, problems: problems)
        }
        return config
    }

    /// Parses and validates cluster.json content given as a string.
    ///
    /// - Parameters:
    ///   - text: The JSON document.
    ///   - source: The name prefixing every message.
    /// - Returns: The validated config.
    /// - Throws: ``ConfigError``, as ``parse(_:source:)``.
    public static func parse(_ text: String, source: String) throws(ConfigError) -> ClusterConfig {
        try parse(Array(text.utf8), source: source)
    }
}
