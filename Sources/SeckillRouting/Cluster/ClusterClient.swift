public import SeckillRESP
public import SeckillTransport
internal import Foundation
import Synchronization

/// The nodes of a cluster.json, each with its own connection pool, and the slot router
/// that says which node owns a key.
///
/// Services hold one client for the life of the process and route every command by its
/// key: ``send(_:key:)`` for one command, ``group(_:)`` to batch many keys per node.
public final class ClusterClient: Sendable {
    /// Maps keys to nodes; replaceable as a whole when the topology changes.
    public let router: SlotRouter
    /// The validated configuration the client was made from.
    public let config: ClusterConfig
    private let pools: [String: NodePool]

    /// Creates a client. No connection is opened until the first command.
    ///
    /// - Parameters:
    ///   - config: A validated configuration.
    ///   - environment: Where the AUTH password variable is read; the process environment by default.
    /// - Throws: ``ConfigError`` when the password variable named in `auth` is not set.
    public init(config: ClusterConfig, environment: [String: String]? = nil) throws(ConfigError) {
        self.config = config
        self.router = SlotRouter(config: config)
        let connection = try config.connectionOptions(environment: environment ?? ProcessInfo.processInfo.environment)
        let poolOptions = config.poolOptions
        var pools: [String: NodePool] = [:]
        for node in config.nodes {
            pools[node.name] = NodePool(endpoint: node.endpoint, connection: connection, pool: poolOptions)
        }
        self.pools = pools
    }

    deinit { close() }

    /// The nodes, in config order.
    public var nodes: [NodeConfig] { config.nodes }

    /// The pool of the node called `name`.
    public func pool(named name: String) -> NodePool? { pools[name] }

    /// The node that owns `key` and its pool.
    public func pool(forKey key: String) -> (node: NodeConfig, pool: NodePool) {
        let node = router.node(forKey: key)
        return (node, pools[node.name]!)
    }

    /// The node that owns `key` (bytes) and its pool.
    public func pool(forKey key: some Collection<UInt8>) -> (node: NodeConfig, pool: NodePool) {
        let node = router.node(forKey: key)
        return (node, pools[node.name]!)
    }

    /// Sends `command` to the node owning `key`.
    ///
    /// - Throws: ``RedisError``, as ``NodePool/send(_:)``.
    public func send(_ command: RESPCommand, key: String) async throws -> RESPValue {
        try await pool(forKey: key).pool.send(command)
    }

    /// Closes every pool.
    public func close() {
        for pool in pools.values { pool.close() }
    }
}
