import Foundation
import SeckillRESP
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
