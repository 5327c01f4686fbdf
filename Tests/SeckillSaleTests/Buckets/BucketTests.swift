import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

@Suite("Buckets", .timeLimit(.minutes(2)))
struct BucketTests {
    /// The node index of every bucket of `item`.
    static func bucketNodes(_ cluster: SaleCluster, _ item: String) throws -> [Int] {
        let layout = try #require(cluster.coordinator.cachedLayout(item))
        return (0..<layout.count).map { cluster.client.router.map.nodeIndex(for: layout.slot($0)) }
    }

    /// A user id whose home bucket in `layout` is `bucket`.
    static func user(in bucket: Int, of layout: BucketLayout, named name: String = "u") -> String {
        var index = 0
        while layout.home(of: "\(name)-\(index)") != bucket { index += 1 }
        return "\(name)-\(index)"
    }

    @Test("salts put the buckets on distinct nodes, and spread more buckets than nodes evenly")
    func placement() throws {
        let ranges = SlotAllocator.evenSlotRanges(count: 3)
        let nodes = ranges.enumerated().map {
            NodeConfig(name: "n\($0.offset)", host: "127.0.0.1", port: 7000 + $0.offset, slots: [$0.element])
        }
        let map = try SlotMap(nodes: nodes)
        for item in ["hot", "sku-42", "a#1.0"] {
            let three = BucketLayout(
                item: item, generation: 1, salts: BucketLayout.place(item: item, generation: 1, count: 3, on: map), limit: 0)
            #expect(Set((0..<3).map { map.nodeIndex(for: three.slot($0)) }).count == 3, "\(item)")
            let seven = BucketLayout(
                item: item, generation: 2, salts: BucketLayout.place(item: item, generation: 2, count: 7, on: map), limit: 0)
            let uses = (0..<7).reduce(into: [Int](repeating: 0, count: 3)) { $0[map.nodeIndex(for: seven.slot($1))] += 1 }
            #expect(uses.sorted() == [2, 2, 3], "\(item): \(uses)")
        }
        // Bucket keys never share a prefix with a plain item's keys.
        let layout = BucketLayout(item: "x", generation: 3, salts: [5, 0], limit: 0)
        #expect(layout.keys(0).meta == "seckill:b:{x#3.2.0.5}")
        #expect(ItemKeys.item(fromMetaKey: layout.keys(0).meta) == nil)
        #expect(BucketLayout.parseOrder("2:1700000000000-0")! == (2, "1700000000000-0"))
        #expect(BucketLayout.parseOrder("1700000000000-0") == nil)
    }

    @Test("a bucketed publish splits the stock evenly, on three nodes; K=1 is a plain item")
    func publishSplits() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1_000, limitPerUser: 2, buckets: 3)
        #expect(Set(try Self.bucketNodes(cluster, item)).count == 3)
        let status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.total == 1_000)
        #expect(status.limit == 2)
        #expect(status.buckets.map(\.total) == [334, 333, 333])
        #expect(Set(status.buckets.map(\.node)).count == 3)
        // The root holds no stock; listing shows the item once.
        #expect(try await cluster.meta(item, "total") == nil)
        #expect(try await cluster.meta(item, "buckets") == 3)
        #expect(try await cluster.coordinator.allItems().filter { $0.hasPrefix(cluster.prefix) } == [item])

        let plain = cluster.item("plain")
        _ = try await cluster.coordinator.publish(plain, stock: 10, buckets: 1)
        #expect(try await cluster.meta(plain, "total") == 10)
        #expect(cluster.coordinator.cachedLayout(plain) == nil)
    }

    @Test("a buyer whose home bucket is empty buys the units left in the others")
    func fallThrough() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 3, buckets: 3)
        let layout = try #require(cluster.coordinator.cachedLayout(item))
        let buyer = Self.user(in: 0, of: layout)
        for _ in 0..<3 {
            guard case .purchased(let order, _) = try await cluster.coordinator.purchase(item, user: buyer) else {
                Issue.record("a unit was left but not sold")
                return
            }
            #expect(order.hasPrefix("0:"))
        }
        #expect(try await cluster.coordinator.purchase(item, user: buyer) == .soldOut(remaining: 0))
        #expect(try await cluster.coordinator.purchase(item, user: Self.user(in: 2, of: layout)) == .soldOut(remaining: 0))
        let status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.sold == 3)
        #expect(status.buckets.map(\.sold) == [3, 0, 0])
        #expect(status.buckets.map(\.total) == [3, 0, 0])
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
    }

    @Test("a purchase of several units gathers them from several buckets, or answers how many are left")
    func quantityFromSeveralBuckets() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 6, buckets: 3)
        let layout = try #require(cluster.coordinator.cachedLayout(item))
        let buyer = Self.user(in: 1, of: layout)
        #expect(try await cluster.coordinator.purchase(item, user: buyer, quantity: 7) == .soldOut(remaining: 6))
        guard case .purchased = try await cluster.coordinator.purchase(item, user: buyer, quantity: 5) else {
            Issue.record("5 of 6 units were not sold")
            return
        }
        let status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.sold == 5)
        #expect(status.buckets[1].sold == 5)
        #expect(try await cluster.coordinator.purchase(item, user: buyer, quantity: 2) == .soldOut(remaining: 1))
        #expect(try await cluster.coordinator.purchase(item, user: buyer, quantity: 1).kind == "purchased")
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
    }

    @Test("200 concurrent buyers sell a bucketed item out exactly: every bucket empty, none below zero")
    func crowdSellsOutExactly() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1_000, limitPerUser: 0, buckets: 3)
        let coordinator = cluster.coordinator
        // No buyer's home is bucket 2: its 333 units can only be sold by moving them.
        let layout = try #require(coordinator.cachedLayout(item))
        let users = (0..<2_000).map { "crowd-\($0)" }.filter { layout.home(of: $0) != 2 }
        let purchased = Locked(0)
        let early = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<200 {
                group.addTask {
                    var attempt = 0
                    while true {
                        attempt += 1
                        let user = users[(worker * 7 + attempt) % users.count]
                        guard let result = try? await coordinator.purchase(item, user: user) else { continue }
                        if case .purchased = result {
                            purchased.withLock { $0 += 1 }
                            continue
                        }
                        // Sold out only once every bucket is empty.
                        if case .soldOut = result, let status = try? await coordinator.status([item]).first ?? nil, status.remaining > 0 {
                            early.withLock { $0 += 1 }
                        }
                        break
                    }
                }
            }
        }
        #expect(purchased.value == 1_000)
        #expect(early.value == 0)
        let status = try #require(try await coordinator.status([item]).first ?? nil)
        #expect(status.sold == 1_000)
        #expect(status.total == 1_000)
        for bucket in status.buckets {
            #expect(bucket.remaining == 0, "bucket \(bucket.index)")
            #expect(bucket.total >= 0 && bucket.sold >= 0)
            #expect(bucket.pendingTransfers == 0)
        }
        // Buyers finding a bucket empty at once share its refill, and a refill takes at least
        // half of the donor: a few dozen transfers, not one per buyer.
        #expect(status.buckets[2].sold == 0)
        var transfers = 0
        for index in 0..<layout.count {
            transfers += Int(try await cluster.redis("HLEN", layout.keys(index).meta + ":transfers", key: layout.keys(index).meta).int ?? 0)
        }
        print("crowd of 200 on 3 buckets: \(transfers / 2) transfers")
        #expect(transfers > 0)
        #expect(transfers / 2 < 100, "\(transfers / 2) transfers")
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
        #expect(report.soldUnits == 1_000)
        #expect(report.purchases == 1_000)
    }

    @Test("one user's many concurrent attempts get exactly the limit, also after cancels and across buckets")
    func limitUnderConcurrency() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        // One unit per bucket: the user's second unit has to be moved from another bucket.
        _ = try await cluster.coordinator.publish(item, stock: 3, limitPerUser: 2, buckets: 3)
        let coordinator = cluster.coordinator
        let layout = try #require(coordinator.cachedLayout(item))
        let user = Self.user(in: 1, of: layout, named: "alice")

        func burst() async -> [PurchaseResult] {
            await withTaskGroup(of: PurchaseResult?.self) { group in
                for _ in 0..<60 { group.addTask { try? await coordinator.purchase(item, user: user) } }
                var results: [PurchaseResult] = []
                for await result in group { if let result { results.append(result) } }
                return results
            }
        }
        let first = await burst()
        #expect(first.count == 60)
        #expect(first.filter { $0.kind == "purchased" }.count == 2)
        #expect(first.filter { $0.kind == "limitReached" }.count == 58)
        let orders = first.compactMap { result -> String? in
            if case .purchased(let order, _) = result { return order }
            return nil
        }
        // A cancel frees one unit of the allowance: the next burst gets exactly one more.
        guard case .cancelled(_, let cancelledUser, 1) = try await coordinator.cancel(item, order: orders[0]) else {
            Issue.record("cancel")
            return
        }
        #expect(cancelledUser == user)
        #expect(try await coordinator.cancel(item, order: orders[0]).isAlreadyCancelled)
        let second = await burst()
        #expect(second.filter { $0.kind == "purchased" }.count == 1)
        // Through another coordinator (its own layout cache, its own refills) too.
        let other = try SaleCoordinator(client: cluster.inspector)
        let third = await withTaskGroup(of: PurchaseResult?.self) { group in
            for _ in 0..<30 { group.addTask { try? await other.purchase(item, user: user) } }
            var results: [PurchaseResult] = []
            for await result in group { if let result { results.append(result) } }
            return results
        }
        #expect(third.allSatisfy { $0 == .limitReached(held: 2) })
        let status = try #require(try await coordinator.status([item]).first ?? nil)
        #expect(status.sold == 2)
        #expect(status.buckets.map(\.sold) == [0, 2, 0])
        #expect(status.remaining == 1)
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
        #expect(report.cancellations == 1)
    }

    @Test("a crash between taking units and giving them is completed by recovery, once")
    func crashMidTransfer() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 30, buckets: 3)
        let layout = try #require(cluster.coordinator.cachedLayout(item))
        // Step 1 only: the coordinator "dies" before giving the units to bucket 1.
        #expect(try await cluster.coordinator.takeUnits(layout, from: 0, to: 1, units: 4, transfer: "crash-1") == 4)
        // A repeat of step 1 answers its record and takes nothing more.
        #expect(try await cluster.coordinator.takeUnits(layout, from: 0, to: 1, units: 4, transfer: "crash-1") == 4)
        var status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.buckets.map(\.total) == [6, 10, 10])
        #expect(status.buckets[0].pendingTransfers == 1)
        #expect(status.total == 30)
        // The units in flight are accounted for: the invariants hold mid-transfer.
        var report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")

        // The next coordinator's recovery (prepare) completes it; a second run finds nothing.
        let next = try SaleCoordinator(client: cluster.inspector)
        try await next.prepare()
        #expect(try await next.recoverTransfers([item]) == 0)
        #expect(try await cluster.coordinator.recoverTransfers([item]) == 0)
        status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.buckets.map(\.total) == [6, 14, 10])
        #expect(status.buckets.allSatisfy { $0.pendingTransfers == 0 })
        report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")

        // Every unit sells, none twice.
        var sold = 0
        for index in 0..<40 {
            if case .purchased = try await cluster.coordinator.purchase(item, user: "buyer-\(index)") { sold += 1 }
        }
        #expect(sold == 30)
    }

    @Test("lost replies in a transfer are resolved by its id: units taken once and given once")
    func lostTransferReplies() async throws {
        let cluster = try await SaleCluster.start(nodes: 3, proxied: true)
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 30, buckets: 3)
        try await cluster.coordinator.prepare()
        let layout = try #require(cluster.coordinator.cachedLayout(item))
        let nodes = try Self.bucketNodes(cluster, item)
        // Step 1 runs on the donor, its reply is lost, the retry gets the record back.
        let donor = cluster.proxies[nodes[1]]
        donor.arm(.dropNextReply)
        #expect(try await cluster.coordinator.takeUnits(layout, from: 1, to: 0, units: 3, transfer: "lost-1") == 3)
        #expect(donor.dropped == 1)
        var status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.buckets.map(\.total) == [10, 7, 10])
        // Recovery gives them; the target's reply is lost too, and the retry changes nothing.
        let target = cluster.proxies[nodes[0]]
        target.arm(.dropNextReply)
        #expect(try await cluster.coordinator.recoverTransfers([item]) == 1)
        #expect(target.dropped == 1)
        status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.buckets.map(\.total) == [13, 7, 10])
        #expect(status.buckets.allSatisfy { $0.pendingTransfers == 0 })
        let report = try await InvariantChecker(client: cluster.inspector).check([item])
        #expect(report.holds, "\(report.violations)")
    }

    @Test("restock, buyers, cancel, unpublish and republish plain work on a bucketed item")
    func lifecycle() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        let coordinator = cluster.coordinator
        _ = try await coordinator.publish(item, stock: 6, limitPerUser: 1, buckets: 3)
        guard case .restocked(let total, let remaining, _) = try await coordinator.restock(item, units: 5, requestID: "r1") else {
            Issue.record("restock")
            return
        }
        #expect(total == 11)
        #expect(remaining == 11)
        // The same request id adds nothing more.
        _ = try await coordinator.restock(item, units: 5, requestID: "r1")
        var status = try #require(try await coordinator.status([item]).first ?? nil)
        #expect(status.total == 11)
        #expect(status.buckets.map(\.total) == [4, 4, 3])

        var orders: [String] = []
        for index in 0..<11 {
            if case .purchased(let order, _) = try await coordinator.purchase(item, user: "b\(index)") { orders.append(order) }
        }
        #expect(orders.count == 11)
        #expect(try await coordinator.purchase(item, user: "late") == .soldOut(remaining: 0))
        var users: [String] = []
        var cursor = "0"
        while true {
            let page = try await coordinator.buyers(item, cursor: cursor, count: 2)
            users += page.buyers.map(\.user)
            guard let next = page.next else { break }
            cursor = next
        }
        #expect(users.sorted() == (0..<11).map { "b\($0)" }.sorted())

        #expect(try await coordinator.cancel(item, order: orders[3]).isCancelled)
        #expect(try await coordinator.cancel(item, order: "9:1-0") == .unknownOrder)
        #expect(try await coordinator.purchase(item, user: "late").kind == "purchased")

        // A fresh coordinator (no cached layout) finds the buckets from the root hash.
        let other = try SaleCoordinator(client: cluster.inspector)
        #expect(try await other.purchase(item, user: "later") == .soldOut(remaining: 0))
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")

        await #expect(throws: SaleError.self) { try await coordinator.unpublish(item) }
        await #expect(throws: SaleError.self) { try await coordinator.publish(item, stock: 5) }
        // Published plain over the buckets with replace: the buckets are gone, the other
        // coordinator's cached layout is dropped at its next purchase.
        _ = try await coordinator.publish(item, stock: 5, replace: true)
        #expect(try await cluster.meta(item, "total") == 5)
        // (With a request id: the other coordinator saw the item sold out and would shed it for a moment.)
        #expect(try await other.purchase(item, user: "later", requestID: "after-replace").kind == "purchased")
        status = try #require(try await coordinator.status([item]).first ?? nil)
        #expect(status.buckets.isEmpty)
        #expect(status.sold == 1)

        _ = try await coordinator.publish(item, stock: 9, replace: true, buckets: 2)
        guard case .removed(let keys) = try await coordinator.unpublish(item) else {
            Issue.record("unpublish")
            return
        }
        #expect(keys >= 3)
        #expect(try await coordinator.status([item]).first! == nil)
        #expect(try await coordinator.purchase(item, user: "x") == .unknownItem)
        for node in cluster.servers.indices {
            let left = try await cluster.cli(node: node, "KEYS", "seckill:b:{\(item)#*")
            #expect(left.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "node \(node): \(left)")
        }
    }
}

@Suite("Buckets in a sale", .timeLimit(.minutes(2)))
struct BucketSaleTests {
    @Test("seckill sale --buckets 3: the hot item sells out from three nodes, each counted on its bucket's node")
    func saleWithBuckets() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        var config = SaleRunConfig()
        config.prefix = cluster.item("sale")
        config.items = 20
        config.stock = 60
        config.limit = 1
        config.users = 3_000
        config.requests = 6_000
        config.concurrency = 64
        config.buckets = 3
        let report = try await SaleRunner(coordinator: cluster.coordinator).run(config)
        #expect(report.errors == 0, "\(report.errorSamples)")
        #expect(report.invariants.holds, "\(report.invariants.violations.prefix(5))")
        #expect(report.invariants.totalUnits == 20 * 60)
        let hot = try #require(try await cluster.coordinator.status([config.item(0)]).first ?? nil)
        #expect(hot.buckets.count == 3)
        #expect(hot.sold == 60)
        #expect(Set(hot.buckets.map(\.node)).count == 3)
        // The hot item's attempts are spread over its buckets' nodes.
        #expect(report.perNode.count == 3)
        #expect(report.perNode.allSatisfy { $0.requests > 0 })
        #expect(report.perNode.map(\.requests).reduce(0, +) == report.requests)
    }

    @Test("a bucketed publish that died half way is cleaned up by the next publish")
    func interruptedPublish() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        // What a publish leaves when it dies after writing a bucket, before switching the root.
        let stale = BucketLayout(item: item, generation: 7, salts: [0, 0], limit: 0)
        try await cluster.redis("HSET", ItemKeys(item: item).meta, "pending", "7.0,0", key: ItemKeys(item: item).meta)
        try await cluster.redis("HSET", stale.keys(1).meta, "total", "5", key: stale.keys(1).meta)
        // A purchase meanwhile finds no item.
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .unknownItem)
        _ = try await cluster.coordinator.publish(item, stock: 10, buckets: 3)
        #expect(try await cluster.exists(stale.keys(1).meta) == false)
        #expect(try await cluster.redis("HEXISTS", ItemKeys(item: item).meta, "pending", key: ItemKeys(item: item).meta).int == 0)
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
        // Published again over itself without sales: new buckets, the old ones gone.
        let first = try #require(cluster.coordinator.cachedLayout(item))
        _ = try await cluster.coordinator.publish(item, stock: 12, buckets: 2)
        #expect(try await cluster.exists(first.keys(0).meta) == false)
        #expect(try await cluster.coordinator.status([item]).first??.total == 12)

        // A root naming buckets it cannot describe (damaged by hand) does not stop a plain publish.
        let broken = cluster.item("broken")
        try await cluster.redis("HSET", ItemKeys(item: broken).meta, "buckets", "3", "salts", "x", key: ItemKeys(item: broken).meta)
        _ = try await cluster.coordinator.publish(broken, stock: 4)
        #expect(try await cluster.meta(broken, "total") == 4)
        #expect(try await cluster.meta(broken, "buckets") == nil)
    }
}

extension CancelResult {
    var isCancelled: Bool {
        if case .cancelled = self { return true }
        return false
    }

    var isAlreadyCancelled: Bool {
        if case .alreadyCancelled = self { return true }
        return false
    }
}
