/// Connection pool sizing and timing per node (`pool` in cluster.json).
public struct PoolSettings: Sendable, Hashable {
    /// Connections opened to each node (`connectionsPerNode`); nil, the default, means
    /// ``ClusterConfig/defaultConnectionsPerNode``: 1 (one multiplexed connection moves the
    /// most commands per write and read), which the sale layer raises to 4 when its
    /// `durability` section makes each purchase's `WAIT` hold its connection.
    public var connectionsPerNode: Int?
    /// Commands allowed in flight per node before callers wait (`maxInFlightPerNode`, default 1024).
    public var maxInFlightPerNode: Int
    /// How long a caller waits for in-flight capacity before failing (`acquireTimeoutMs`, default 500 ms).
    public var acquireTimeout: Duration
    /// First delay before reconnecting a dropped connection (`reconnectMinMs`, default 50 ms).
    public var reconnectMin: Duration
    /// Largest delay between reconnect attempts (`reconnectMaxMs`, default 2000 ms).
    public var reconnectMax: Duration
    /// The largest reply accepted from a node, in bytes (`maxReplyBytes`, default 64 MiB); a
    /// larger one fails its command and closes that connection
    /// (``SeckillTransport/ConnectionOptions/maxReplyBytes``).
    public var maxReplyBytes: Int

    /// The defaults used when cluster.json has no `pool` section.
    public static let defaults = PoolSettings()

    /// Creates pool settings; every parameter defaults to the documented value.
    ///
    /// - Parameters:
    ///   - connectionsPerNode: Connections per node; nil for ``ClusterConfig/defaultConnectionsPerNode``.
    ///   - maxInFlightPerNode: In-flight command limit per node.
    ///   - acquireTimeout: Wait limit for in-flight capacity.
    ///   - reconnectMin: First reconnect delay.
    ///   - reconnectMax: Largest reconnect delay.
    ///   - maxReplyBytes: The largest reply accepted, in bytes.
    public init(
        connectionsPerNode: Int? = nil,
        maxInFlightPerNode: Int = 1024,
        acquireTimeout: Duration = .milliseconds(500),
        reconnectMin: Duration = .milliseconds(50),
        reconnectMax: Duration = .milliseconds(2000),
        maxReplyBytes: Int = 64 * 1024 * 1024
    ) {
        self.connectionsPerNode = connectionsPerNode
        self.maxInFlightPerNode = maxInFlightPerNode
        self.acquireTimeout = acquireTimeout
        self.reconnectMin = reconnectMin
        self.reconnectMax = reconnectMax
        self.maxReplyBytes = maxReplyBytes
    }
}
