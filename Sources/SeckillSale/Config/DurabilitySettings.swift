/// Whether a purchase or cancel waits for replicas (`durability` in cluster.json), owned by
/// the sale layer: the routing layer keeps the section unread and ``SaleConfig`` decodes it.
///
/// With `replicas` above 0 the coordinator sends `WAIT replicas timeoutMs` to the
/// primary after each purchase and cancel, so an acknowledged order survives the
/// failover of that primary. Each `WAIT` holds its connection until the replicas answer,
/// so with replicas the default connections per node become
/// ``connectionsPerNodeWithReplicas`` (``SaleConfig``).
public struct DurabilitySettings: Sendable, Hashable {
    /// The most replicas ``replicas`` may ask for.
    public static let maxReplicas = 16
    /// The connections per node used when writes wait for replicas and `pool` does not say:
    /// a shard that just lost its replica holds each `WAIT` for the whole timeout, so more
    /// connections keep purchases moving meanwhile.
    public static let connectionsPerNodeWithReplicas = 4

    /// Replicas that must acknowledge a write before it is reported done (`replicas`,
    /// 0-16, default 0: no `WAIT`).
    public var replicas: Int
    /// How long `WAIT` blocks for them (`timeoutMs`, default 100 ms). Always positive:
    /// `WAIT n 0` would block forever. With ``replicas`` above 0 it must be below
    /// `timeouts.commandMs`: the `WAIT` reply must come before the connection times out.
    public var timeout: Duration

    /// No `WAIT`: the default used when cluster.json has no `durability` section.
    public static let off = DurabilitySettings()

    /// Creates durability settings; every parameter defaults to the documented value.
    ///
    /// - Parameters:
    ///   - replicas: Replica acknowledgements to wait for, 0 for none.
    ///   - timeout: The `WAIT` timeout.
    public init(replicas: Int = 0, timeout: Duration = .milliseconds(100)) {
        self.replicas = replicas
        self.timeout = timeout
    }

    /// Whether writes wait for replicas (``replicas`` is above 0).
    public var isEnabled: Bool {
        replicas > 0
    }
}
