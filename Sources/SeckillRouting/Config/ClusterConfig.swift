/// The validated content of cluster.json as the routing layer needs it: how the Redis nodes
/// are found, pool sizing, timeouts, credentials, database and the cluster tuning.
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
/// other; `mode`, `pool`, `timeouts`, `auth`, `database` and `topology` are optional (see
/// ``ClusterMode``, ``PoolSettings``, ``TimeoutSettings``, ``AuthSettings``,
/// ``TopologySettings``; `database` defaults to 0). Unknown fields are rejected. Load with
/// ``load(path:)`` or ``parse(_:source:)``; configs built in code are checked with
/// ``validated()``.
///
/// The same file holds sections owned by the layers above (``ownedSectionNames``: the sale
/// layer's `sale` and `durability`). This layer accepts those names, keeps each section's
/// JSON as written in ``sections`` and writes it back unchanged (``render()``), but never
/// reads their fields: the owning layer decodes, defaults and validates them (the sale
/// layer's `SaleConfig`), so checking a whole file takes both layers.
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
    /// The sections owned by the layers above, by name (one of ``ownedSectionNames``), as
    /// written in the file: this layer does not read them.
    public var sections: [String: JSONValue]
    /// Connections per node when `pool.connectionsPerNode` is not set (default 1). Not part
    /// of cluster.json: a layer above whose commands hold their connection raises it (the
    /// sale layer asks for 4 when `durability` makes each purchase wait for replicas).
    public var defaultConnectionsPerNode: Int
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
    ///   - sections: The raw sections owned by the layers above, by name.
    ///   - defaultConnectionsPerNode: Connections per node when `pool` does not say.
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
        sections: [String: JSONValue] = [:],
        defaultConnectionsPerNode: Int = 1,
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
        self.sections = sections
        self.defaultConnectionsPerNode = defaultConnectionsPerNode
        self.source = source
    }

    /// The top-level sections of cluster.json that the layers above own, accepted here and
    /// kept unread in ``sections``: `durability` and `sale`, in the order they are written.
    public static let ownedSectionNames = ["durability", "sale"]

    /// The JSON of the section `name` as written, or nil when the config has none.
    ///
    /// - Parameter name: One of ``ownedSectionNames``.
    /// - Returns: The section's value, unread.
    public func section(named name: String) -> JSONValue? {
        sections[name]
    }

    /// Reads, parses and validates a cluster.json file.
    ///
    /// - Parameter path: The file's path; it prefixes every message.
    /// - Returns: The validated config.
    /// - Throws: ``ConfigError`` when the file is missing (``ConfigError/Code/fileNotFound``),
    ///   unreadable (``ConfigError/Code/unreadable``), not JSON (``ConfigError/Code/syntax``)
    ///   or wrong (``ConfigError/Code/invalid``, listing every problem).
    public static func load(path: String) throws(ConfigError) -> ClusterConfig {
        try read(path: path).validated()
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
        try read(bytes, source: source).validated()
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
