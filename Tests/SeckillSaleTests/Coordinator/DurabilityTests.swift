import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

/// `WAIT` after purchases and cancels, against a real replica.
@Suite("Durability", .timeLimit(.minutes(1)))
struct DurabilityTests {
    /// Starts a replica of `primary` and waits until its link is up.
    static func replica(of primary: RedisServer) async throws -> RedisServer {
        let replica = try await offThePool { try RedisServer.verified(arguments: ["--replicaof", "127.0.0.1", String(primary.port)]) }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        while try await !offThePool({ try replica.cli("INFO", "replication") }).contains("master_link_status:up") {
            guard clock.now < deadline else { throw TestFailure("the replica never connected") }
            try await Task.sleep(for: .milliseconds(50))
        }
        return replica
    }

    @Test("with a live replica, a purchase's receipt says the replica has it")
    func replicaAcknowledges() async throws {
        let cluster = try await SaleCluster.start(options: SaleOptions(durabilityReplicas: 1, durabilityTimeout: .seconds(2)))
        // The primary otherwise waits 5 s for more replicas before the first sync.
        try await cluster.cli(node: 0, "CONFIG", "SET", "repl-diskless-sync-delay", "0")
        let replica = try await Self.replica(of: cluster.servers[0])
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5)
        let receipt = try await cluster.coordinator.purchaseReceipt(item, user: "u", requestID: "r-1")
        #expect(receipt.result.kind == "purchased")
        #expect(receipt.requestID == "r-1")
        #expect(receipt.replicasRequired == 1)
        #expect(receipt.replicasAcknowledged == 1)
        #expect(receipt.isReplicated)
        let sold = try await offThePool { try replica.cli("HGET", ItemKeys(item: item).meta, "sold") }
        #expect(sold.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("replica paused, reply dropped, retry on a fresh connection: the replayed purchase is not reported replicated")
    func replayWhileReplicaPaused() async throws {
        let cluster = try await SaleCluster.start(
            proxied: true, options: SaleOptions(durabilityReplicas: 1, durabilityTimeout: .milliseconds(300)))
        try await cluster.cli(node: 0, "CONFIG", "SET", "repl-diskless-sync-delay", "0")
        let replica = try await Self.replica(of: cluster.servers[0])
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5)
        try await cluster.coordinator.prepare()
        replica.pause()
        defer { replica.resume() }
        // The script runs and the connection closes before its reply: outcome unknown, so the
        // coordinator retries with the request id on a new connection and gets the record.
        cluster.proxies[0].arm(.dropNextReply)
        let receipt = try await cluster.coordinator.purchaseReceipt(item, user: "u", requestID: "r-1")
        #expect(cluster.proxies[0].dropped == 1)
        #expect(receipt.result.kind == "purchased")
        #expect(receipt.replayed)
        #expect(receipt.replicasAcknowledged == 0)
        #expect(!receipt.isReplicated)

        // Another process (its own connections) asking with the same id while the replica is
        // still paused: the same purchase, still not replicated.
        let other = SaleCoordinator(
            client: try ClusterClient(config: cluster.client.config, environment: [:]), options: cluster.coordinator.options)
        let replay = try await other.purchaseReceipt(item, user: "u", requestID: "r-1")
        #expect(replay.result == receipt.result)
        #expect(replay.replayed)
        #expect(!replay.isReplicated)

        // Once the replica runs again it catches up, and a replay reports what it now has.
        replica.resume()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        var caughtUp = try await other.purchaseReceipt(item, user: "u", requestID: "r-1")
        while !caughtUp.isReplicated && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            caughtUp = try await other.purchaseReceipt(item, user: "u", requestID: "r-1")
        }
        #expect(caughtUp.result == receipt.result)
        #expect(caughtUp.replayed)
        #expect(caughtUp.isReplicated)
        #expect(try await cluster.meta(item, "sold") == 1)
        #expect(try await cluster.orders(item).count == 1)
    }

    @Test("a batch waits for replicas like a single purchase: every receipt carries WAIT's count")
    func batchWaitsForReplicas() async throws {
        // A replica on a loaded machine may take a while to acknowledge: WAIT gets 2 s, within
        // a 3 s command timeout (the four WAITs share one connection, one after another).
        let cluster = try await SaleCluster.start(
            options: SaleOptions(durabilityReplicas: 1, durabilityTimeout: .seconds(2)),
            timeouts: TimeoutSettings(connect: .seconds(2), command: .seconds(3)))
        try await cluster.cli(node: 0, "CONFIG", "SET", "repl-diskless-sync-delay", "0")
        // Held to the end: a released server is stopped.
        let replica = try await Self.replica(of: cluster.servers[0])
        defer { withExtendedLifetime(replica) {} }
        let items = (0..<4).map { cluster.item("batch-\($0)") }
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 5) }
        let receipts = await cluster.coordinator.purchaseReceipts(items.map { PurchaseRequest(item: $0, user: "u") })
        for receipt in receipts {
            let value = try receipt.get()
            #expect(value.result.kind == "purchased")
            #expect(value.replicasRequired == 1)
            #expect(value.replicasAcknowledged == 1)
            #expect(value.isReplicated)
        }
    }

    @Test("without a replica the purchase is still applied once, and its receipt says it is not replicated")
    func noReplica() async throws {
        let cluster = try await SaleCluster.start(options: SaleOptions(durabilityReplicas: 1, durabilityTimeout: .milliseconds(50)))
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5)
        let receipt = try await cluster.coordinator.purchaseReceipt(item, user: "u")
        #expect(receipt.result.kind == "purchased")
        #expect(receipt.replicasAcknowledged == 0)
        #expect(!receipt.isReplicated)
        #expect(try await cluster.meta(item, "sold") == 1)
    }

    @Test("durability off sends no WAIT: the receipt has no acknowledgement count and counts as replicated")
    func durabilityOff() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5)
        let receipt = try await cluster.coordinator.purchaseReceipt(item, user: "u")
        #expect(receipt.replicasAcknowledged == nil)
        #expect(receipt.replicasRequired == 0)
        #expect(receipt.isReplicated)
        let stats = try await cluster.cli(node: 0, "INFO", "commandstats")
        #expect(!stats.contains("cmdstat_wait:"))
    }
}
