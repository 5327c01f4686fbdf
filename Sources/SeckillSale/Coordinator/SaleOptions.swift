public import SeckillRouting

/// How the coordinator retries and how long it keeps request records.
public struct SaleOptions: Sendable, Hashable {
    /// How long a request id's first answer is kept, so retries get it back. Default 24 h.
    public var requestTTL: Duration
    /// The most one call may take, retries included. Default 3 s.
    public var callDeadline: Duration
    /// First pause between retries; doubles each time up to ``maxBackoff``. Default 2 ms.
    public var minBackoff: Duration
    /// Longest pause between retries. Default 100 ms.
    public var maxBackoff: Duration
    /// Replicas that must acknowledge a purchase or cancel (`WAIT`); 0, the default, sends no WAIT.
    /// Each `WAIT` holds its connection until it returns: cluster.json's `durability` also
    /// raises the default connections per node to 4, but setting durability only here does
    /// not, so set `pool.connectionsPerNode` (2-4) as well.
    public var durabilityReplicas: Int
    /// How long `WAIT` may block. Default 100 ms.
    public var durabilityTimeout: Duration
    /// How long a sold-out answer is reused in process for purchases without a caller's
    /// request id before Redis is asked again (the bound on how late a restock made by
    /// another process is noticed); nil turns shedding off. Default 100 ms.
    public var soldOutRecheck: Duration?

    /// Creates options with the documented defaults.
    public init(
        requestTTL: Duration = .seconds(24 * 3600),
        callDeadline: Duration = .seconds(3),
        minBackoff: Duration = .milliseconds(2),
        maxBackoff: Duration = .milliseconds(100),
        durabilityReplicas: Int = 0,
        durabilityTimeout: Duration = .milliseconds(100),
        soldOutRecheck: Duration? = .milliseconds(100)
    ) {
        self.soldOutRecheck = soldOutRecheck
        self.durabilityReplicas = durabilityReplicas
        self.durabilityTimeout = durabilityTimeout
        self.requestTTL = requestTTL
        self.callDeadline = callDeadline
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension SaleOptions {
    /// The options cluster.json sets: `sale.requestTtlSeconds`, `sale.callDeadlineMs` and
    /// `durability`; the backoff keeps its defaults.
    public init(config: ClusterConfig) {
        self.init(
            callDeadline: config.sale.callDeadline,
            durabilityReplicas: config.durability.replicas, durabilityTimeout: config.durability.timeout)
    }
}
