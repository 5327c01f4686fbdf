import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

/// A real Redis Cluster (``RedisCluster``), a cluster-mode client discovering it from every
/// node, and helpers the suites share. Item ids carry a random prefix.
final class ClusterHarness: Sendable {
    let cluster: RedisCluster
    let client: ClusterClient
    let prefix: String

    private init(cluster: RedisCluster, client: ClusterClient) {
        self.cluster = cluster
        self.client = client
        self.prefix = "c-" + UUID().uuidString.prefix(8).lowercased()
    }

    /// Starts a cluster of `primaries` x (1 + `replicas`) nodes and connects a client to it.
    static func start(primaries: Int = 3, replicas: Int = 1) async throws -> ClusterHarness {
        let cluster = try await RedisCluster.start(primaries: primaries, replicasPerPrimary: replicas, nodeTimeoutMs: 1000)
        let client = try await ClusterClient.connect(config: try config(ports: cluster.ports), environment: [:])
        return ClusterHarness(cluster: cluster, client: client)
    }

    deinit {
        client.close()
        cluster.stop()
    }

    /// A cluster-mode config seeded with every node, with deadlines generous enough for a
    /// loaded two-core machine.
    static func config(ports: [Int], durability: DurabilitySettings = .off) throws -> ClusterConfig {
        let cluster = ClusterConfig(
            mode: .cluster,
            seeds: ports.map { NodeAddress(host: "127.0.0.1", port: $0) },
            // Two connections per node: some tests turn durability on in SaleOptions only,
            // where the config cannot see it to choose its default (each WAIT holds a connection).
            pool: PoolSettings(connectionsPerNode: 2, reconnectMin: .milliseconds(10), reconnectMax: .milliseconds(200)),
            timeouts: TimeoutSettings(connect: .seconds(2), command: .seconds(3)),
            topology: TopologySettings(refreshInterval: .seconds(1), maxRedirects: 5),
            source: "cluster test"
        )
        return try SaleConfig(cluster: cluster, sale: SaleSettings(callDeadline: .seconds(10)), durability: durability).validated().cluster
    }

    /// A coordinator over the harness's client.
    func coordinator(durabilityReplicas: Int = 0) -> SaleCoordinator {
        SaleCoordinator(
            client: client,
            options: SaleOptions(callDeadline: .seconds(10), durabilityReplicas: durabilityReplicas, durabilityTimeout: .milliseconds(100)))
    }

    /// A sale of `items` x `stock` units under this harness's prefix.
    func saleConfig(items: Int, stock: Int, users: Int, requests: Int, concurrency: Int) -> SaleRunConfig {
        var config = SaleRunConfig()
        config.items = items
        config.stock = stock
        config.limit = 1
        config.users = users
        config.requests = requests
        config.concurrency = concurrency
        config.prefix = prefix
        return config
    }

    /// The slot of `item`'s keys.
    static func slot(of item: String) -> HashSlot { HashSlot(key: ItemKeys(item: item).meta) }

    /// The client's name for a server.
    static func name(of server: RedisServer) -> String { "127.0.0.1:\(server.port)" }

    /// The entry ids of `item`'s orders stream, read through the client.
    func orderIDs(of item: String) async throws -> Set<String> {
        let keys = ItemKeys(item: item)
        var ids = Set<String>()
        var start = "-"
        while true {
            let reply = try await client.execute(
                [RESPCommand("XRANGE", keys.orders, start, "+", "COUNT", "1000")],
                slot: Self.slot(of: item), deadline: .now + .seconds(10))[0]
            if let message = reply.errorMessage { throw TestFailure("XRANGE \(keys.orders): \(message)") }
            let entries = (reply.array ?? []).compactMap { $0.array?.first?.string }
            ids.formUnion(entries)
            guard entries.count == 1000, let last = entries.last else { return ids }
            start = "(" + last
        }
    }

    /// Polls `condition` every 50 ms for up to `timeout`.
    func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}

/// A failure of the test's own plumbing.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Seconds since `start`, for the timing lines the suites print.
func elapsed(since start: ContinuousClock.Instant) -> String {
    let duration = ContinuousClock.now - start
    return String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
}

extension Duration {
    /// The duration in seconds, for the lines the suites print.
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
