/// The validated content of cluster.json: how the Redis nodes are found, pool sizing,
/// timeouts, credentials, database, and the cluster and sale tuning.
///
/// In the default static mode the file lists every node with its slot ranges:
///
/// ```json
/// {
///   "nodes": [
///     {"name": "node-a", "host": "127.0.0.1", "port": 7000, "slots": [[0, 5460]]},
///     {"name": "node-b", "host": "127.0.0.1", "port": 7001, "slots": [[5461, 10922]]},
///     {"name": "node-c", "host": "127.0.0.1", "port": 7002, "slots": [[10923, 16383]]}
///   ],
///   "pool": {"maxInFlightPerNode": 1024, "acquireTimeoutMs": 500},
///   "timeouts": {"connectMs": 1000, "commandMs": 1000},
///   "auth": {"username": "default", "passwordEnv": "SECKILL_REDIS_PASSWORD"}
/// }
/// ```
///
/// In cluster mode it names a few nodes of a real Redis Cluster to discover the rest from:
///
/// ```json
/// {
///   "mode": "cluster",
///   "seeds": [{"host": "127.0.0.1", "port": 7100}, {"host": "127.0.0.1", "port": 7101}],
///   "topology": {"refreshIntervalMs": 5000, "maxRedirects": 5},
///   "durability": {"replicas": 1, "timeoutMs": 100}
/// }
/// ```
///
/// `nodes` is required in static mode and `seeds` in cluster mode, each forbidden in the
/// other; `mode`, `pool`, `timeouts`, `auth`, `database`, `topology`, `durability` and
/// `sale` are optional (see ``ClusterMode``, ``PoolSettings``, ``TimeoutSettings``,
/// ``AuthSettings``, ``TopologySettings``, ``DurabilitySettings``, ``SaleSettings``;
/// `database` defaults to 0). Unknown fields are rejected. Load with ``load(path:)`` or
/// ``parse(_:source:)``; configs built in code are checked with ``validated()``.
///
/// In cluster mode ``nodes`` is empty: the topology is only known at run time.
/// `SlotMap(config:)` and `SlotRouter(config:)` build the map from ``nodes`` and so need
/// a static config (they stop the process on an empty node list); check ``mode`` first.
/// A cluster-mode client discovers the map from ``seeds`` (`ClusterClient.connect(config:)`).
public struct ClusterConfig: Sendable, Hashable {
    /// How the nodes are found (`mode`, default ``ClusterMode/static``).
    public var mode: ClusterMode
    /// The nodes, in file order; together their slots cover 0-16383 exactly once.
    /// Static mode only: always empty in cluster mode.
    public var nodes: [NodeConfig]
    /// The nodes to discover a Redis Cluster's topology from, in file order, without
    /// repeats. Cluster mode only: always empty in static mode.
    public var seeds: [NodeAddress]
    /// Pool sizing and timing.
    public var pool: PoolSettings
    /// Network timeouts.
    public var timeouts: TimeoutSettings
    /// Credentials, or `nil` to skip AUTH.
    public var auth: AuthSettings?
    /// The database number to SELECT after connecting (0 skips SELECT).
    public var database: Int
    /// Slot-map refresh and redirect limits; used in cluster mode only.
    public var topology: TopologySettings
    /// Whether purchases and cancels wait for replicas (default ``DurabilitySettings/off``).
    public var durability: DurabilitySettings
    /// The deadline of one coordinator call and the eviction-policy override.
    public var sale: SaleSettings
    /// Where the config came from (the path given to ``load(path:)``), used to prefix messages.
    public var source: String

    /// Creates a config in code; call ``validated()`` before use.
    ///
    /// A static config gives `nodes`; a cluster config gives `mode: .cluster` and `seeds`
    /// instead, e.g. `ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "127.0.0.1", port: 7100)])`.
    ///
    /// - Parameters:
    ///   - mode: How the nodes are found.
    ///   - nodes: The nodes and their slot ranges (static mode).
    ///   - seeds: The nodes to discover the topology from (cluster mode).
    ///   - pool: Pool settings.
    ///   - timeouts: Timeouts.
    ///   - auth: Credentials, or `nil`.
    ///   - database: The database number.
    ///   - topology: Slot-map refresh and redirect limits.
    ///   - durability: Replica acknowledgements after writes.
    ///   - sale: Coordinator limits.
    ///   - source: A name for messages, e.g. a file path.
    public init(
        mode: ClusterMode = .static,
        nodes: [NodeConfig] = [],
        seeds: [NodeAddress] = [],
        pool: PoolSettings = .defaults,
        timeouts: TimeoutSettings = .defaults,
        auth: AuthSettings? = nil,
        database: Int = 0,
        topology: TopologySettings = .defaults,
        durability: DurabilitySettings = .off,
        sale: SaleSettings = .defaults,
        source: String = "cluster config"
    ) {
        self.mode = mode
        self.nodes = nodes
        self.seeds = seeds
        self.pool = pool
        self.timeouts = timeouts
        self.auth = auth
        self.database = database
        self.topology = topology
        self.durability = durability
        self.sale = sale
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
