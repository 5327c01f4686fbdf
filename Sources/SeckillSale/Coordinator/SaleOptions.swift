public import SeckillRouting
public import SeckillTransport

/// How the coordinator retries, waits for replicas and sheds sold-out items.
public struct SaleOptions: Sendable, Hashable {
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
    /// Run on nodes whose `maxmemory-policy` is not `noeviction`. Off by default: an evicting
    /// node may drop an item's request records or buyers, and then a retried request can buy
    /// twice or a user exceed the limit. Turn it on only for nodes that never reach `maxmemory`.
    public var allowEvictionPolicy: Bool

    /// Creates options with the documented defaults.
    public init(
        callDeadline: Duration = .seconds(3),
        minBackoff: Duration = .milliseconds(2),
        maxBackoff: Duration = .milliseconds(100),
        durabilityReplicas: Int = 0,
        durabilityTimeout: Duration = .milliseconds(100),
        soldOutRecheck: Duration? = .milliseconds(100),
        allowEvictionPolicy: Bool = false
    ) {
        self.allowEvictionPolicy = allowEvictionPolicy
        self.soldOutRecheck = soldOutRecheck
        self.durabilityReplicas = durabilityReplicas
        self.durabilityTimeout = durabilityTimeout
        self.callDeadline = callDeadline
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
    }
}

extension SaleOptions {
    /// The retry rule of sale calls: ``minBackoff`` doubling to ``maxBackoff``, within
    /// ``callDeadline`` (see ``RetryPolicy`` for what may be sent again).
    public var retryPolicy: RetryPolicy { RetryPolicy(minBackoff: minBackoff, maxBackoff: maxBackoff) }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension SaleOptions {
    /// The options cluster.json sets: `sale.callDeadlineMs`, `sale.allowEvictionPolicy` and
    /// `durability`; the backoff keeps its defaults.
    public init(config: ClusterConfig) {
        self.init(
            callDeadline: config.sale.callDeadline,
            durabilityReplicas: config.durability.replicas, durabilityTimeout: config.durability.timeout,
            allowEvictionPolicy: config.sale.allowEvictionPolicy)
    }
}
