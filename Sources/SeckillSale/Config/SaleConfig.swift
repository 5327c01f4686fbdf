public import SeckillRouting

/// cluster.json as the sale layer runs on it: the routing layer's ``cluster`` config and
/// the two sections this layer owns, `sale` (``SaleSettings``) and `durability`
/// (``DurabilitySettings``).
///
/// The file stays one file: the routing layer reads its own sections and keeps these two
/// as written (`ClusterConfig.sections`); this type decodes, defaults and validates them
/// with the same strict checks and messages naming the file and field, and checks them
/// against the routing values they depend on (`timeouts.commandMs`). ``load(path:)`` and
/// ``parse(_:source:)`` report the problems of both layers at once.
///
/// ```json
/// {
///   "mode": "cluster",
///   "seeds": [{"host": "127.0.0.1", "port": 7100}],
///   "timeouts": {"connectMs": 1000, "commandMs": 1000},
///   "durability": {"replicas": 1, "timeoutMs": 100},
///   "sale": {"callDeadlineMs": 3000, "allowEvictionPolicy": false}
/// }
/// ```
public struct SaleConfig: Sendable, Hashable {
    /// The routing layer's config. Its `sections` hold `sale` and `durability` as written,
    /// and its `defaultConnectionsPerNode` suits ``durability``
    /// (``DurabilitySettings/connectionsPerNodeWithReplicas`` when writes wait for replicas).
    public private(set) var cluster: ClusterConfig
    /// The `sale` section (``SaleSettings/defaults`` when absent).
    public let sale: SaleSettings
    /// The `durability` section (``DurabilitySettings/off`` when absent).
    public let durability: DurabilitySettings

    /// Combines a routing config with sale settings built in code; call ``validated()``
    /// before use.
    ///
    /// The settings are written into the config's `sale` and `durability` sections (left
    /// out when they are the defaults), so rendering the config writes them.
    ///
    /// - Parameters:
    ///   - cluster: The routing config.
    ///   - sale: The coordinator limits.
    ///   - durability: The replica acknowledgements after writes.
    public init(cluster: ClusterConfig, sale: SaleSettings = .defaults, durability: DurabilitySettings = .off) {
        var cluster = cluster
        cluster.sections[SaleSettings.sectionName] = sale == .defaults ? nil : sale.section
        cluster.sections[DurabilitySettings.sectionName] = durability == .off ? nil : durability.section
        self.init(decoded: cluster, sale: sale, durability: durability)
    }

    /// The parts, the routing config's pool sized for `durability`.
    init(decoded cluster: ClusterConfig, sale: SaleSettings, durability: DurabilitySettings) {
        var cluster = cluster
        if durability.isEnabled {
            cluster.defaultConnectionsPerNode = max(cluster.defaultConnectionsPerNode, DurabilitySettings.connectionsPerNodeWithReplicas)
        }
        self.cluster = cluster
        self.sale = sale
        self.durability = durability
    }

    /// Decodes the `sale` and `durability` sections of a routing config (loaded with
    /// `ClusterConfig.load(path:)` or built in code) and validates both layers.
    ///
    /// - Parameter config: The routing config.
    /// - Throws: ``SeckillRouting/ConfigError`` with code `invalid` listing every problem of
    ///   both layers, each naming the config's source and the field.
    public init(decoding config: ClusterConfig) throws(ConfigError) {
        self = try Self.checked(config.reading)
    }

    /// Reads, parses and validates a cluster.json file, both layers.
    ///
    /// - Parameter path: The file's path; it prefixes every message.
    /// - Returns: The validated config.
    /// - Throws: ``SeckillRouting/ConfigError`` when the file is missing, unreadable, not JSON
    ///   or wrong (code `invalid`, listing every problem of both layers).
    public static func load(path: String) throws(ConfigError) -> SaleConfig {
        try checked(ClusterConfig.read(path: path))
    }

    /// Parses and validates cluster.json content, both layers.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 JSON document.
    ///   - source: The name prefixing every message, normally the file path.
    /// - Returns: The validated config.
    /// - Throws: ``SeckillRouting/ConfigError`` with code `syntax` for malformed JSON or
    ///   `invalid` listing every problem.
    public static func parse(_ bytes: [UInt8], source: String) throws(ConfigError) -> SaleConfig {
        try checked(ClusterConfig.read(bytes, source: source))
    }

    /// Parses and validates cluster.json content given as a string, both layers.
    ///
    /// - Parameters:
    ///   - text: The JSON document.
    ///   - source: The name prefixing every message.
    /// - Returns: The validated config.
    /// - Throws: ``SeckillRouting/ConfigError``, as ``parse(_:source:)``.
    public static func parse(_ text: String, source: String) throws(ConfigError) -> SaleConfig {
        try parse(Array(text.utf8), source: source)
    }

    /// Every problem of both layers, each prefixed with the source and the field; empty when
    /// the config is valid. The settings are checked as they are, not read again from the
    /// sections.
    public var validationProblems: [String] {
        let reading = cluster.reading
        return reading.problems + Self.validationProblems(sale: sale, durability: durability, reading: reading, failedPaths: [])
    }

    /// Checks a config built in code the way ``parse(_:source:)`` checks a file.
    ///
    /// - Returns: `self`, unchanged, when every check passes.
    /// - Throws: ``SeckillRouting/ConfigError`` with code `invalid` listing every problem.
    public func validated() throws(ConfigError) -> SaleConfig {
        let problems = validationProblems
        guard problems.isEmpty else { throw ConfigError(.invalid, problems: problems) }
        return self
    }

    /// Decodes this layer's sections of `reading` and checks both layers, throwing every
    /// problem at once: the routing layer's first, then this layer's.
    static func checked(_ reading: ClusterConfig.Reading) throws(ConfigError) -> SaleConfig {
        var reader = ConfigReader(source: reading.config.source)
        let durability = DurabilitySettings.decode(reading.config.section(named: DurabilitySettings.sectionName), with: &reader)
        let sale = SaleSettings.decode(reading.config.section(named: SaleSettings.sectionName), with: &reader)
        let problems =
            reading.problems + reader.problems
            + validationProblems(sale: sale, durability: durability, reading: reading, failedPaths: reader.failedPaths)
        guard problems.isEmpty else { throw ConfigError(.invalid, problems: problems) }
        return SaleConfig(decoded: reading.config, sale: sale, durability: durability)
    }
}
