/// The size and limits of one node's connection pool.
public struct PoolOptions: Sendable, Hashable {
    /// Connections kept open to the node; commands are spread over them (the least busy
    /// takes the next). Default 1.
    public var connections: Int
    /// Commands allowed in flight (written or queued for writing) on the node at once. Default 1024.
    public var maxInFlight: Int
    /// Callers allowed to wait for an in-flight slot; beyond this a call fails with
    /// ``RedisError/Code/overloaded`` at once. Default 2 x ``maxInFlight`` (a waiting caller is a suspended task of a few KB).
    public var maxWaiting: Int
    /// How long a caller waits for an in-flight slot before failing with overloaded. Default 500 ms.
    public var acquireTimeout: Duration
    /// First delay before reconnecting after a failed connect; doubles up to ``reconnectMax``. Default 50 ms.
    public var reconnectMin: Duration
    /// Longest delay between reconnect attempts. Default 2 s.
    public var reconnectMax: Duration

    /// Creates options with the documented defaults.
    public init(
        connections: Int = 1,
        maxInFlight: Int = 1024,
        maxWaiting: Int? = nil,
        acquireTimeout: Duration = .milliseconds(500),
        reconnectMin: Duration = .milliseconds(50),
        reconnectMax: Duration = .seconds(2)
    ) {
        self.connections = max(1, connections)
        self.maxInFlight = max(1, maxInFlight)
        self.maxWaiting = max(0, maxWaiting ?? maxInFlight * 2)
        self.acquireTimeout = acquireTimeout
        self.reconnectMin = reconnectMin
        self.reconnectMax = reconnectMax
    }
}
