internal import Foundation
public import SeckillRESP
public import SeckillTransport
import Synchronization

/// The Redis nodes of a config, each with its own connection pool, and the slot router that
/// says which node owns a key.
///
/// In static mode the nodes and slots come from cluster.json. In cluster mode they are
/// discovered from a real Redis Cluster (`CLUSTER SHARDS`, falling back to `CLUSTER SLOTS`)
/// through the seeds, refreshed periodically (``run()``) and whenever a redirect or an
/// unreachable primary shows the map is stale. Services hold one client for the life of
/// the process.
///
/// One route: every command for a key reaches Redis through ``execute(_:slot:deadline:)``
/// (one call) or ``execute(_:deadline:)`` (many calls, grouped by node and pipelined, each
/// call that meets a redirect handed back to the single-call path), so redirects
/// (`MOVED`, `ASK`), waits (`TRYAGAIN`, `CLUSTERDOWN`, ...) and retries are decided in one
/// place. The purchase hot path makes its first attempt with
/// ``executeOnce(_:appending:slot:deadline:)`` (the node the map names, nothing followed) and
/// hands any error reply or failure to that same path. Commands addressed to a node rather
/// than a key go through ``execute(_:on:)`` over ``nodes`` (e.g. ``keys(matching:type:)``).
///
/// Lifecycle: ``run()`` owns the background work (periodic refreshes, refreshes asked for,
/// reconnects) while it runs; the client works without it too (see ``run()``).
/// ``shutdown(timeout:)`` lets the calls in flight finish and then closes every connection;
/// ``close()`` closes at once.
public final class ClusterClient: Sendable {
    /// Maps keys to nodes; replaced as a whole when the topology changes.
    public let router: SlotRouter
    /// The validated configuration the client was made from.
    public let config: ClusterConfig
    /// Where the client, its pools and the coordinators over it log (off by default).
    public let logger: SeckillLogger
    private let connection: ConnectionOptions
    private let poolOptions: PoolOptions
    private let state: Mutex<State>
    /// The refreshes and connect attempts that ``run()`` runs while it runs.
    let work = WorkQueue()
    /// The pools and counters of the map's nodes by node index, for the current map generation:
    /// a call finds its node's without hashing the node's name.
    private let routes = Mutex<NodeRoutes?>(nil)

    /// The nodes of one map generation with their pools and counters, by node index.
    final class NodeRoutes: Sendable {
        let generation: UInt64
        let nodes: [NodeConfig]
        let pools: [NodePool]
        let metrics: [NodeMetrics]

        init(generation: UInt64, nodes: [NodeConfig], pools: [NodePool], metrics: [NodeMetrics]) {
            self.generation = generation
            self.nodes = nodes
            self.pools = pools
            self.metrics = metrics
        }
    }

    struct State {
        var pools: [String: NodePool] = [:]
        /// Per node name; kept when a pool is closed, so counts survive reconnects and failovers.
        var metrics: [String: NodeMetrics] = [:]
        var topology: ClusterTopology?
        var refreshing = false
        var refreshes = 0
        var lastRefresh: ContinuousClock.Instant?
        /// Refreshes started so far; each refresh is known by this count when it began.
        var refreshesStarted = 0
        /// The latest-started refresh that has finished.
        var finishedGeneration = 0
        /// Why that refresh failed, nil when it read a topology.
        var lastRefreshError: (any Error)?
        /// Set by ``shutdown(timeout:)`` and ``close()``: no new refreshes, pools opened closed.
        var shutDown = false
        /// The node the next refresh asks first (see ``awaitRefresh(before:askingFirst:)``).
        var refreshFirstFrom: RedisEndpoint?
        /// Callers waiting for a refresh (``awaitRefresh(before:askingFirst:)``), by id.
        var refreshWaiters: [Int: RefreshWaiter] = [:]
        var nextWaiter = 0
    }

    /// A caller of ``awaitRefresh(before:askingFirst:)`` waiting for the running refresh to end.
    enum RefreshWaiter {
        /// Registered, not yet suspended.
        case pending
        /// Suspended until the running refresh ends.
        case waiting(CheckedContinuation<Bool, Never>)
        /// The refresh ended before it suspended: it resumes at once.
        case ended
        /// Cancelled before it suspended: it resumes at once.
        case cancelled
    }

    /// Creates a client for a static config. No connection is opened until the first command.
    ///
    /// - Parameter logger: Where to log connects, topology changes, retries and shedding.
    /// - Throws: ``ConfigError`` when the password variable named in `auth` is not set, or
    ///   when the config is in cluster mode (use ``connect(config:environment:logger:)``).
    public convenience init(config: ClusterConfig, environment: [String: String]? = nil, logger: SeckillLogger = .disabled)
        throws(ConfigError)
    {
        guard config.mode == .static else {
            throw ConfigError(.invalidArgument, "\(config.source): cluster mode discovers its nodes: use ClusterClient.connect(config:)")
        }
        try self.init(config: config, map: SlotMap(config: config), environment: environment, logger: logger)
    }

    private init(config: ClusterConfig, map: SlotMap, environment: [String: String]?, logger: SeckillLogger) throws(ConfigError) {
        self.config = config
        self.logger = logger
        self.router = SlotRouter(map: map)
        self.connection = try config.connectionOptions(environment: environment ?? ProcessInfo.processInfo.environment)
        self.poolOptions = config.poolOptions
        var pools: [String: NodePool] = [:]
        for node in map.nodes {
            pools[node.name] = NodePool(endpoint: node.endpoint, connection: connection, pool: poolOptions, logger: logger, work: work)
        }
        self.state = Mutex(State(pools: pools))
    }

    /// Creates a client for either mode; in cluster mode the topology is read from the first
    /// seed that answers.
    ///
    /// - Parameter logger: Where to log connects, topology changes, retries and shedding.
    /// - Throws: ``ConfigError`` for a missing password variable, or ``RedisError`` /
    ///   ``ClusterTopology/ParseError`` when no seed gives a usable topology.
    public static func connect(
        config: ClusterConfig, environment: [String: String]? = nil, logger: SeckillLogger = .disabled
    ) async throws -> ClusterClient {
        guard config.mode == .cluster else { return try ClusterClient(config: config, environment: environment, logger: logger) }
        let options = try config.connectionOptions(environment: environment ?? ProcessInfo.processInfo.environment)
        let topology = try await discover(
            from: config.seeds.map { RedisEndpoint(host: $0.host, port: $0.port) }, connection: options, pools: [:])
        let client = try ClusterClient(config: config, map: try topology.slotMap(previous: nil), environment: environment, logger: logger)
        logger.log(
            .info, "cluster topology read", ["primaries": String(client.router.map.nodes.count), "nodes": String(topology.allNodes.count)])
        client.state.withLock { $0.topology = topology }
        return client
    }

    deinit { close() }

    /// The nodes of the current slot map (in cluster mode, the primaries).
    public var nodes: [NodeConfig] { router.map.nodes }

    /// The executor of the client's I/O thread (``NodePool/ioExecutor``): callers that run on
    /// it (`withTaskExecutorPreference(client.executor)`) are resumed by their replies
    /// without a thread hop.
    public var executor: any TaskExecutor { NodePool.ioExecutor }

    /// The last topology read from the cluster (cluster mode only).
    public var topology: ClusterTopology? { state.withLock { $0.topology } }

    /// Whether ``run()`` is running (and takes the client's background work).
    public var isRunning: Bool { work.isRunning }

    /// Whether ``shutdown(timeout:)`` or ``close()`` was called: new calls are refused.
    package var isShutDown: Bool { state.withLock { $0.shutDown } }

    /// How many topology refreshes have completed.
    public var refreshCount: Int { state.withLock { $0.refreshes } }

    /// The pool of the node called `name`.
    public func pool(named name: String) -> NodePool? { state.withLock { $0.pools[name] } }

    /// The pool of `node`, opened when the client does not have one yet (a new primary).
    public func pool(for node: NodeConfig) -> NodePool {
        state.withLock { openPool(node, in: &$0) }
    }

    /// The pool of `node` in `state`, made and kept there when missing. Under the state's lock.
    private func openPool(_ node: NodeConfig, in state: inout State) -> NodePool {
        if let pool = state.pools[node.name] { return pool }
        let pool = NodePool(endpoint: node.endpoint, connection: connection, pool: poolOptions, logger: logger, work: work)
        state.pools[node.name] = pool
        // After a shutdown a new node's pool takes no calls either.
        if state.shutDown { pool.close() }
        return pool
    }

    /// The node that owns `key` and its pool.
    public func pool(forKey key: String) -> (node: NodeConfig, pool: NodePool) {
        let node = router.node(forKey: key)
        return (node, pool(for: node))
    }

    /// The node that owns `key` (bytes) and its pool.
    public func pool(forKey key: some Collection<UInt8>) -> (node: NodeConfig, pool: NodePool) {
        let node = router.node(forKey: key)
        return (node, pool(for: node))
    }

    /// Sends `command` to the node owning `key`, following redirects.
    ///
    /// - Parameters:
    ///   - command: The command.
    ///   - key: The key that routes it.
    ///   - deadline: When the call must have returned, redirects and retries included; nil
    ///     allows one command timeout (`timeouts.commandMs`) from now.
    /// - Throws: ``RedisError``: the server's error reply, or a transport failure.
    public func send(_ command: RESPCommand, key: String, deadline: ContinuousClock.Instant? = nil) async throws -> RESPValue {
        let deadline = deadline ?? ContinuousClock.now + config.timeouts.command
        let reply = try await execute(command, slot: HashSlot(key: key), deadline: deadline)
        if let message = reply.errorMessage { throw RedisError.server(message, node: router.node(forKey: key).name) }
        return reply
    }

    /// The pool of `node` and its counters, under one lock.
    func poolAndMetrics(for node: NodeConfig) -> (NodePool, NodeMetrics) {
        state.withLock { state in (openPool(node, in: &state), state.metrics(named: node.name)) }
    }

    /// The node serving `slot` now, with its pool and counters: ``poolAndMetrics(for:)`` for
    /// the owner of a slot, read from a table by node index that is rebuilt when the map changes.
    func nodeRoute(for slot: HashSlot) -> (node: NodeConfig, pool: NodePool, metrics: NodeMetrics) {
        let (routes, index) = nodeRoutes(for: slot)
        return (routes.nodes[index], routes.pools[index], routes.metrics[index])
    }

    /// The table ``nodeRoute(for:)`` reads, and the index in it of the node serving `slot`: for
    /// callers that need the node's name only on a rare path (copying it costs a reference
    /// count per string of the node's config).
    func nodeRoutes(for slot: HashSlot) -> (routes: NodeRoutes, index: Int) {
        let (index, generation) = router.owner(of: slot)
        if let routes = routes.withLock({ $0 }), routes.generation == generation {
            return (routes, index)
        }
        let (map, current) = router.generationMap
        let built = state.withLock { state in
            NodeRoutes(
                generation: current, nodes: map.nodes, pools: map.nodes.map { openPool($0, in: &state) },
                metrics: map.nodes.map { state.metrics(named: $0.name) })
        }
        routes.withLock { $0 = built }
        // The map may have changed between the two reads: route by the table just built.
        return (built, map.nodeIndex(for: slot))
    }

    /// The counters of the node called `name` (made on first use).
    public func metrics(forNode name: String) -> NodeMetrics {
        state.withLock { $0.metrics(named: name) }
    }

    /// Every node's counts now: the nodes of the current map, and any other node with counts.
    public func nodeMetrics() -> [NodeMetrics.Snapshot] {
        let names = Set(router.map.nodes.map(\.name))
        let (metrics, pools) = state.withLock { state in
            for name in names { _ = state.metrics(named: name) }
            return (state.metrics, state.pools)
        }
        return metrics.map { name, counters in
            counters.snapshot(node: name, inFlight: pools[name]?.inFlight ?? 0, reconnects: pools[name]?.reconnects ?? 0)
        }
        .sorted { $0.node < $1.node }
    }

    /// The connection settings every pool uses.
    var connectionOptions: ConnectionOptions { connection }

    /// Runs `body` with the client's mutable state, under its lock.
    func withState<R>(_ body: (inout State) -> R) -> R {
        state.withLock { body(&$0) }
    }

    /// Closes every pool at once: commands in flight fail (outcome unknown), later calls fail
    /// with `poolClosed`; ends ``run()``. ``shutdown(timeout:)`` lets the calls in flight
    /// finish first.
    public func close() {
        let pools = state.withLock { state in
            state.shutDown = true
            return state.pools.values
        }
        work.finishNow()
        for pool in pools { pool.close() }
    }

    /// Shuts the client down: new calls fail at once with `poolClosed` ("shut down"), calls
    /// in flight (and queued for a node) may finish for up to `timeout`, then every
    /// connection is closed (commands still in flight fail with `cancelled`, outcome unknown)
    /// and ``run()`` ends. Returns when all of that is done: no socket of the client is left
    /// open and no task it started is left running.
    ///
    /// - Parameter timeout: How long the calls in flight may take to finish.
    public func shutdown(timeout: Duration = .seconds(5)) async {
        let pools = state.withLock { state in
            state.shutDown = true
            return Array(state.pools.values)
        }
        await withDiscardingTaskGroup { group in
            for pool in pools {
                group.addTask { await pool.shutdown(timeout: timeout) }
            }
            // Meanwhile run() ends: a refresh in progress is given up, connect attempts it
            // held are made again by the callers that still need them.
            await work.finish()
        }
        // Pools a refresh opened while the others drained.
        let late = state.withLock { state in state.pools.values.filter { pool in !pools.contains { $0 === pool } } }
        for pool in late { await pool.shutdown(timeout: .zero) }
    }
}

extension ClusterClient.State {
    /// Marks the running refresh as ended and returns the waiters to wake (each looks again).
    mutating func endRefresh() -> [CheckedContinuation<Bool, Never>] {
        refreshing = false
        var ready: [CheckedContinuation<Bool, Never>] = []
        for (id, waiter) in refreshWaiters {
            switch waiter {
            case .pending: refreshWaiters[id] = .ended
            case .waiting(let continuation):
                refreshWaiters[id] = nil
                ready.append(continuation)
            case .ended, .cancelled: break
            }
        }
        return ready
    }

    /// The counters of the node called `name`, made and kept when missing.
    mutating func metrics(named name: String) -> NodeMetrics {
        if let existing = metrics[name] { return existing }
        let made = NodeMetrics()
        metrics[name] = made
        return made
    }
}
