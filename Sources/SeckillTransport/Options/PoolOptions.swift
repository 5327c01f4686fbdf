/// The size and limits of one node's connection pool.
public struct PoolOptions: Sendable, Hashable {
    /// Connections kept open to the node; commands are spread over them (the least busy
    /// takes the next). Default 1.
    public var connections: Int
    /// Commands allowed in flight (written or queued for writing) on the node at once. Default 1024.
    public var maxInFlight: Int
    /// The most callers queued for an in-flight slot, a memory bound: beyond it a call fails
    /// with ``RedisError/Code/overloaded`` at once. Admission is otherwise decided by time (see
    /// ``acquireTimeout``). Default 64 x ``maxInFlight`` (65,536 for the default bound); a
    /// waiting caller is its suspended task plus a 32-byte queue entry.
    public var maxWaiting: Int
    /// How long a caller beyond ``maxInFlight`` waits for a slot before failing with
    /// ``RedisError/Code/overloaded``. Default 500 ms.
    ///
    /// A caller is refused at once (overloaded, not sent) when its expected wait already
    /// exceeds twice this (the permits queued ahead of it divided by the drain rate the pool
    /// measured while callers waited) and a waiter timed out, or nearly, within the last
    /// timeout. Without a measurement yet, it is admitted and waits.
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
        self.maxWaiting = max(0, maxWaiting ?? self.maxInFlight * 64)
        self.acquireTimeout = acquireTimeout
        self.reconnectMin = reconnectMin
        self.reconnectMax = reconnectMax
    }
}
