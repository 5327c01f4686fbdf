import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

/// What a sale leaves in Redis: state that grows with units sold, not with attempts; items
/// that can be removed whole; nodes that refuse to run a sale they could lose.
@Suite("Sale state in Redis", .timeLimit(.minutes(1)))
struct SaleStateTests {
    @Test("500 refused attempts with request ids add no key and no record; purchases add one record each")
    func refusalsLeaveNothing() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let gone = cluster.item("gone")
        let keys = ItemKeys(item: item)
        _ = try await cluster.coordinator.publish(item, stock: 30, limitPerUser: 1)
        _ = try await cluster.coordinator.publish(gone, stock: 0)
        for user in 0..<20 {
            _ = try await cluster.coordinator.purchase(item, user: "u\(user)", requestID: "buy-\(user)")
        }
        let before = Int(try await cluster.redis("DBSIZE", key: keys.meta).int ?? -1)
        #expect(try await cluster.redis("HLEN", keys.requests, key: keys.meta).int == 20)
        // Limit reached for the buyers, sold out on the other item: refusals of both kinds.
        let refused = (0..<500).map {
            PurchaseRequest(item: $0 % 2 == 0 ? item : gone, user: "u\($0 % 20)", requestID: "refused-\($0)")
        }
        let results = await cluster.coordinator.purchase(refused)
        let kinds = Set(results.map { (try? $0.get())?.kind ?? "error" })
        #expect(kinds == ["soldOut", "limitReached"])
        #expect(try await cluster.redis("DBSIZE", key: keys.meta).int.map(Int.init) == before)
        #expect(try await cluster.redis("HLEN", keys.requests, key: keys.meta).int == 20)
        #expect(try await cluster.meta(item, "sold") == 20)
    }

    @Test("unpublish removes every key under the item's tag, strays of older versions included")
    func unpublishRemovesEverything() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let keys = ItemKeys(item: item)
        _ = try await cluster.coordinator.publish(item, stock: 5)
        guard case .purchased(let order, _) = try await cluster.coordinator.purchase(item, user: "u", requestID: "r-1") else {
            Issue.record("not sold")
            return
        }
        _ = try await cluster.coordinator.cancel(item, order: order)
        _ = try await cluster.coordinator.restock(item, units: 1, requestID: "s-1")
        // A request record as an earlier version wrote it: one string key per attempt.
        try await cluster.redis("SET", keys.meta + ":req:old-1", "S|0", key: keys.meta)
        let other = cluster.item("other")
        _ = try await cluster.coordinator.publish(other, stock: 1)

        let refused = await #expect(throws: SaleError.self) { _ = try await cluster.coordinator.unpublish(item) }
        #expect(refused?.code == .hasSales)
        #expect(try await cluster.exists(keys.meta))

        // Item hash, orders, cancellations, request and restock records, the stray (the buyers
        // hash went with the cancellation).
        #expect(try await cluster.coordinator.unpublish(item, force: true) == .removed(keys: 6))
        let left = try await cluster.redis("KEYS", "seckill:{\(item)}*", key: keys.meta).array ?? []
        #expect(left.isEmpty)
        #expect(try await cluster.exists(ItemKeys(item: other).meta))
        #expect(try await cluster.coordinator.unpublish(item) == .unknownItem)
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .unknownItem)
    }

    @Test("an item without sales is unpublished without force; a request id is evaluated afresh once it is published again")
    func unpublishThenPublishAgain() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 3)
        #expect(try await cluster.coordinator.unpublish(item) == .removed(keys: 1))
        _ = try await cluster.coordinator.publish(item, stock: 3)
        let first = try await cluster.coordinator.purchaseReceipt(item, user: "u", requestID: "r-1")
        #expect(first.result.kind == "purchased" && !first.replayed)
        _ = try await cluster.coordinator.publish(item, stock: 3, replace: true)
        // A new item: the id's record went with the old one, so the attempt buys again.
        let second = try await cluster.coordinator.purchaseReceipt(item, user: "u", requestID: "r-1")
        guard case .purchased(let order, 2) = second.result else {
            Issue.record("the replaced item did not sell afresh: \(second.result)")
            return
        }
        #expect(!second.replayed)
        #expect(try await cluster.orders(item).map(\.id) == [order])
        #expect(try await cluster.meta(item, "sold") == 1)
    }

    @Test("a node whose maxmemory-policy is not noeviction is refused before the sale, naming node, policy and fix")
    func evictionPolicyRefused() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        try await cluster.cli(node: 1, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        let coordinator = try SaleCoordinator(client: cluster.client)
        let error = await #expect(throws: SaleError.self) { try await coordinator.prepare() }
        #expect(error?.code == .unsafeNode)
        let node = cluster.client.nodes[1]
        #expect(error?.message.contains(node.name) == true)
        #expect(error?.message.contains("allkeys-lru") == true)
        #expect(error?.message.contains("noeviction") == true)
        #expect(error?.message.contains("allowEvictionPolicy") == true)
        // publish checks the node owning the item.
        let item = cluster.items(perNode: 1)[1][0]
        let refused = await #expect(throws: SaleError.self) { _ = try await coordinator.publish(item, stock: 1) }
        #expect(refused?.code == .unsafeNode)
        #expect(try await cluster.exists(ItemKeys(item: item).meta) == false)

        var options = SaleOptions()
        options.allowEvictionPolicy = true
        let allowed = SaleCoordinator(client: cluster.client, options: options)
        try await allowed.prepare()
        #expect(try await allowed.publish(item, stock: 1) == .published(epoch: 1))
    }

    @Test("at maxmemory under noeviction a purchase fails with outOfMemory and nothing is applied; refusals still answer")
    func outOfMemory() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let gone = cluster.item("gone")
        let keys = ItemKeys(item: item)
        _ = try await cluster.coordinator.publish(item, stock: 5, limitPerUser: 1)
        _ = try await cluster.coordinator.publish(gone, stock: 0)
        _ = try await cluster.coordinator.purchase(item, user: "first")
        // With durability on, a replay rewrites its record before WAIT.
        let durable = SaleCoordinator(
            client: cluster.client, options: SaleOptions(durabilityReplicas: 1, durabilityTimeout: .milliseconds(20)))
        let bought = try await durable.purchaseReceipt(item, user: "durable", requestID: "d-1")
        try await cluster.cli(node: 0, "CONFIG", "SET", "maxmemory", "1")

        let error = await #expect(throws: SaleError.self) {
            _ = try await cluster.coordinator.purchase(item, user: "u", requestID: "oom-1")
        }
        #expect(error?.code == .outOfMemory)
        #expect(error?.message.contains("out of memory") == true)
        #expect(error?.redis?.serverCode == "OOM")
        #expect(try await cluster.meta(item, "sold") == 2)
        #expect(try await cluster.held(item, by: "u") == 0)
        #expect(try await cluster.orders(item).count == 2)
        #expect(try await cluster.redis("HEXISTS", keys.requests, "oom-1", key: keys.meta).int == 0)
        // Refusals write nothing, so they are still answered.
        #expect(try await cluster.coordinator.purchase(gone, user: "u", requestID: "oom-2") == .soldOut(remaining: 0))
        #expect(try await cluster.coordinator.purchase(item, user: "first", requestID: "oom-3") == .limitReached(held: 1))

        // A replay that cannot rewrite its record still reports the purchase, not replicated.
        let replay = try await durable.purchaseReceipt(item, user: "durable", requestID: "d-1")
        #expect(replay.result == bought.result)
        #expect(replay.replayed)
        #expect(replay.replicasAcknowledged == 0)
        #expect(!replay.isReplicated)

        try await cluster.cli(node: 0, "CONFIG", "SET", "maxmemory", "0")
        #expect(try await cluster.coordinator.purchase(item, user: "u", requestID: "oom-1").kind == "purchased")
        #expect(try await cluster.meta(item, "sold") == 3)
    }
}
