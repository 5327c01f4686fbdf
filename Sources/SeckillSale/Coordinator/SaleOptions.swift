public import SeckillRouting
public import SeckillTransport

/// How the coordinator retries, waits for replicas and sheds sold-out items.
///
/// The settings cluster.json can give live in ``sale`` and ``durability``, with their
/// defaults (``SaleSettings/defaults``, ``DurabilitySettings/off``); the rest (backoff,
/// shedding) is set in code only.
public struct SaleOptions: Sendable, Hashable {
    /// The call deadline and the eviction-policy override (`sale` in cluster.json).
    public var sale: SaleSettings
    /// Replica acknowledgements after purchases and cancels (`durability` in cluster.json).
    /// Each `WAIT` holds its connection until it returns: cluster.json's `durability` also
    /// raises the default connections per node (``SaleConfig/cluster``), but setting
    /// durability only here does not, so set `pool.connectionsPerNode` (2-4) as well.
    public var durability: DurabilitySettings
    /// First pause between retries; doubles each time up to ``maxBackoff``. Default 2 ms.
    public var minBackoff: Duration
    /// Longest pause between retries. Default 100 ms.
    public var maxBackoff: Duration
    /// How long a sold-out answer is reused in process for purchases without a caller's
    /// request id before Redis is asked again (the bound on how late a restock made by
    /// another process is noticed); nil turns shedding off. Default 100 ms.
    public var soldOutRecheck: Duration?
    /// How often ``SaleCoordinator/run()`` sweeps the payment deadlines (releases the orders
    /// past theirs, see ``SaleCoordinator/sweepPayments(rereadRegistry:)``). Default 1 s: an
    /// unpaid order is released at most this long (plus the sweep's own time) after its deadline.
    public var sweepInterval: Duration = .seconds(1)
    /// How often a sweep reads the registry of items with payment deadlines again, to find
    /// items published by other processes. Default 10 s.
    public var registryRefresh: Duration = .seconds(10)

    /// Creates options from the settings of cluster.json's sections.
    ///
    /// - Parameters:
    ///   - sale: The `sale` settings.
    ///   - durability: The `durability` settings.
    ///   - minBackoff: First pause between retries.
    ///   - maxBackoff: Longest pause between retries.
    ///   - soldOutRecheck: How long a sold-out answer is reused; nil turns shedding off.
    public init(
        sale: SaleSettings, durability: DurabilitySettings, minBackoff: Duration = .milliseconds(2),
        maxBackoff: Duration = .milliseconds(100),
        soldOutRecheck: Duration? = .milliseconds(100)
    ) {
        self.sale = sale
        self.durability = durability
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
        self.soldOutRecheck = soldOutRecheck
    }

    /// Creates options field by field; what is not given has the documented default (those
    /// of ``SaleSettings/defaults`` and ``DurabilitySettings/off`` for their fields).
    ///
    /// - Parameters:
    ///   - callDeadline: The most one call may take, retries included.
    ///   - minBackoff: First pause between retries.
    ///   - maxBackoff: Longest pause between retries.
    ///   - durabilityReplicas: Replicas that must acknowledge a purchase or cancel.
    ///   - durabilityTimeout: How long `WAIT` may block.
    ///   - soldOutRecheck: How long a sold-out answer is reused; nil turns shedding off.
    ///   - allowEvictionPolicy: Run on nodes that may evict keys.
    public init(
        callDeadline: Duration = SaleSettings.defaults.callDeadline,
        minBackoff: Duration = .milliseconds(2),
        maxBackoff: Duration = .milliseconds(100),
        durabilityReplicas: Int = DurabilitySettings.off.replicas,
        durabilityTimeout: Duration = DurabilitySettings.off.timeout,
        soldOutRecheck: Duration? = .milliseconds(100),
        allowEvictionPolicy: Bool = SaleSettings.defaults.allowEvictionPolicy
    ) {
        self.init(
            sale: SaleSettings(callDeadline: callDeadline, allowEvictionPolicy: allowEvictionPolicy),
            durability: DurabilitySettings(replicas: durabilityReplicas, timeout: durabilityTimeout),
            minBackoff: minBackoff, maxBackoff: maxBackoff, soldOutRecheck: soldOutRecheck)
    }

    /// The most one call may take, retries included (``SaleSettings/callDeadline``).
    public var callDeadline: Duration {
        get { sale.callDeadline }
        set { sale.callDeadline = newValue }
    }

    /// Run on nodes whose `maxmemory-policy` is not `noeviction`
    /// (``SaleSettings/allowEvictionPolicy``). Off by default: an evicting node may drop an
    /// item's request records or buyers, and then a retried request can buy twice or a user
    /// exceed the limit. Turn it on only for nodes that never reach `maxmemory`.
    public var allowEvictionPolicy: Bool {
        get { sale.allowEvictionPolicy }
        set { sale.allowEvictionPolicy = newValue }
    }

    /// Replicas that must acknowledge a purchase or cancel (``DurabilitySettings/replicas``);
    /// 0, the default, sends no `WAIT`.
    public var durabilityReplicas: Int {
        get { durability.replicas }
        set { durability.replicas = newValue }
    }

    /// How long `WAIT` may block (``DurabilitySettings/timeout``).
    public var durabilityTimeout: Duration {
        get { durability.timeout }
        set { durability.timeout = newValue }
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
    /// The options a validated cluster.json sets: its `sale` and `durability` sections; the
    /// backoff and shedding keep their defaults.
    ///
    /// - Parameter config: The config, both layers validated.
    public init(config: SaleConfig) {
        self.init(sale: config.sale, durability: config.durability)
    }

    /// The options of a routing config's `sale` and `durability` sections, decoded and
    /// validated first (``SaleConfig/init(decoding:)``).
    ///
    /// - Parameter config: The routing config holding the sections.
    /// - Throws: ``SeckillRouting/ConfigError`` listing every problem of the config.
    public init(config: ClusterConfig) throws(ConfigError) {
        self.init(config: try SaleConfig(decoding: config))
    }
}
