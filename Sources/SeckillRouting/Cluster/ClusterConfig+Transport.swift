public import SeckillTransport

extension ClusterConfig {
    /// The connection settings for every node: timeouts, AUTH credentials, database and the reply size limit.
    ///
    /// - Parameter environment: Where the password named by `auth.passwordEnv` is read.
    /// - Returns: The options.
    /// - Throws: ``ConfigError`` when `auth` names a variable that is not set.
    public func connectionOptions(environment: [String: String]) throws(ConfigError) -> ConnectionOptions {
        var options = ConnectionOptions(
            connectTimeout: timeouts.connect, commandTimeout: timeouts.command, database: database,
            maxReplyBytes: pool.maxReplyBytes)
        if let auth {
            options.username = auth.username
            options.password = try auth.password(environment: environment)
        }
        return options
    }

    /// Connections per node: `pool.connectionsPerNode` when set, otherwise
    /// ``defaultConnectionsPerNode`` (1 unless a layer above raised it). One connection
    /// carries the most commands per write and read (measured 1.18x the purchases/s of two at
    /// concurrency 200); commands that hold their connection (the sale layer's `WAIT`) need more.
    public var connectionsPerNode: Int {
        pool.connectionsPerNode ?? defaultConnectionsPerNode
    }

    /// The pool limits for every node.
    public var poolOptions: PoolOptions {
        PoolOptions(
            connections: connectionsPerNode, maxInFlight: pool.maxInFlightPerNode,
            acquireTimeout: pool.acquireTimeout, reconnectMin: pool.reconnectMin, reconnectMax: pool.reconnectMax)
    }
}

extension NodeConfig {
    /// The node as the transport names it.
    public var endpoint: RedisEndpoint {
        RedisEndpoint(name: name, host: host, port: port)
    }
}
