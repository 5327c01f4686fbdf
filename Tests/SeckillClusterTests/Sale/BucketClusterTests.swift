import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// Bucketed items on a real Redis Cluster.
    @Suite struct BucketClusterTests {
        @Test func bucketsLandOnDistinctPrimariesAndTheItemSellsOutExactly() async throws {
            let harness = try await ClusterHarness.start()
            let coordinator = harness.coordinator()
            let item = "\(harness.prefix)-hot"
            _ = try await coordinator.publish(item, stock: 600, limitPerUser: 1, buckets: 3)
            let layout = try #require(coordinator.cachedLayout(item))
            let owners = (0..<3).map { harness.client.router.node(for: layout.slot($0)).name }
            #expect(Set(owners).count == 3, "\(owners)")
            let primaries = try await harness.cluster.primaries().map(ClusterHarness.name(of:))
            #expect(Set(owners) == Set(primaries))
            // Six buckets on three primaries: two each.
            let six = "\(harness.prefix)-six"
            _ = try await coordinator.publish(six, stock: 60, buckets: 6)
            let sixLayout = try #require(coordinator.cachedLayout(six))
            let uses = (0..<6).reduce(into: [String: Int]()) {
                $0[harness.client.router.node(for: sixLayout.slot($1)).name, default: 0] += 1
            }
            #expect(uses.values.sorted() == [2, 2, 2], "\(uses)")

            let shoppers = Shoppers()
            let tally = await shoppers.run(coordinator, items: [item], workers: 64, maxAttempts: 2_000)
            #expect(tally.errors.isEmpty, "\(tally.errors.prefix(3))")
            #expect(tally.purchased == 600)
            let status = try #require(try await coordinator.status([item]).first ?? nil)
            #expect(status.sold == 600)
            #expect(status.buckets.allSatisfy { $0.remaining == 0 && $0.sold >= 0 })
            // With durability on, bucket purchases (and the transfers behind them) wait for a replica.
            let durable = harness.coordinator(durabilityReplicas: 1)
            let replicated = "\(harness.prefix)-durable"
            _ = try await durable.publish(replicated, stock: 300, buckets: 3)
            let durableTally = await Shoppers().run(durable, items: [replicated], workers: 32, maxAttempts: 1_000)
            #expect(durableTally.errors.isEmpty, "\(durableTally.errors.prefix(3))")
            #expect(durableTally.purchased == 300)
            // Each receipt says how many replicas had the purchase (plain items' receipts on this
            // cluster right after its start show 0 as often: a WAIT may time out on a loaded
            // machine, and the receipt then says so).
            let confirmed = durableTally.purchases.filter { $0.replicated }.count
            print("buckets with durability: \(confirmed) of \(durableTally.purchased) purchases confirmed on a replica")
            let receipt = try await durable.purchaseReceipt(six, user: "durable-buyer")
            #expect(receipt.result.kind == "purchased")
            #expect(receipt.replicasRequired == 1)
            #expect(receipt.replicasAcknowledged != nil)
            let invariants = try await InvariantChecker(client: harness.client).check([item, six, replicated])
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
        }

        @Test func aBucketsSlotReshardedAndItsPrimaryFailedOverMidSaleKeepTheSaleExact() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            let item = "\(harness.prefix)-hot"
            let stock = 12_000
            _ = try await coordinator.publish(item, stock: stock, limitPerUser: 1, buckets: 3)
            let layout = try #require(coordinator.cachedLayout(item))
            // No buyer's home is bucket 0, the bucket that moves and fails over: its units
            // reach buyers only through transfers.
            let users = (0..<40_000).map { "buyer-\($0)" }.filter { layout.home(of: $0) != 0 }
            // And buckets 1 and 2 start nearly empty (most of their units moved to bucket 0), so
            // units are moved out of bucket 0 a K-th at a time through the sale.
            for donor in 1...2 {
                #expect(try await coordinator.takeUnits(layout, from: donor, to: 0, units: 3_900, transfer: "setup-\(donor)") == 3_900)
            }
            #expect(try await coordinator.recoverTransfers([item]) == 2)
            let next = Locked(0)
            let done = Locked(0)
            let traffic = Task {
                await withTaskGroup(of: (purchases: [String], errors: [String], soldOut: Int).self) { group in
                    for _ in 0..<32 {
                        group.addTask {
                            var purchases: [String] = []
                            var errors: [String] = []
                            var soldOut = 0
                            while soldOut < 20 {
                                let index = next.withLock { value in
                                    value += 1
                                    return value
                                }
                                guard index < users.count else { break }
                                do throws(SaleError) {
                                    switch try await coordinator.purchase(item, user: users[index]) {
                                    case .purchased(let order, _): purchases.append(order)
                                    case .soldOut: soldOut += 1
                                    default: break
                                    }
                                } catch {
                                    errors.append(error.message)
                                }
                                done.withLock { $0 += 1 }
                                try? await Task.sleep(for: .milliseconds(1))
                            }
                            return (purchases, errors, soldOut)
                        }
                    }
                    var all: (purchases: [String], errors: [String], soldOut: Int) = ([], [], 0)
                    for await part in group {
                        all.purchases += part.purchases
                        all.errors += part.errors
                        all.soldOut += part.soldOut
                    }
                    return all
                }
            }
            #expect(await harness.eventually { done.value >= 500 }, "the buyers did not start")

            // Bucket 0's slot moves to another primary, in steps, while the buyers buy.
            let slot = Int(layout.slot(0).rawValue)
            let source = try await cluster.primary(ofSlot: slot)
            let primaries = try await cluster.primaries()
            let position = try #require(primaries.firstIndex { $0.port == source.port })
            let target = primaries[(position + 1) % primaries.count]
            let migration = try await cluster.beginMigration(slot: slot, from: source, to: target)
            var moved = try await cluster.moveKeys(migration, batch: 2, limit: 4)
            try await Task.sleep(for: .milliseconds(100))
            moved += try await cluster.moveKeys(migration, batch: 100)
            try await cluster.finishMigration(migration)
            let doneAtMove = done.value

            // Then that bucket's new primary hands over to its replica.
            let primary = try await cluster.primary(ofSlot: slot)
            #expect(primary.port == target.port)
            let replica = try #require(try await cluster.replicas(of: primary).first)
            try await cluster.failover(replica: replica)
            let doneAtFailover = done.value

            let result = await traffic.value
            print(
                "buckets: slot \(slot) (\(moved) keys) \(source.port)->\(target.port) by attempt \(doneAtMove), failover \(primary.port)->\(replica.port) by \(doneAtFailover); \(done.value) attempts, \(result.purchases.count) purchased, \(result.errors.count) errors; test \(elapsed(since: start))"
            )
            #expect(doneAtMove < done.value && doneAtFailover < done.value)
            #expect(result.errors.isEmpty, "\(result.errors.count) errors: \(Set(result.errors).prefix(3))")
            #expect(result.purchases.count == stock)

            let status = try #require(try await coordinator.status([item]).first ?? nil)
            #expect(status.sold == stock)
            #expect(status.buckets[0].sold == 0)
            #expect(status.buckets[0].total == 0, "bucket 0's units all moved")
            let transfers =
                try await harness.client.execute(
                    [RESPCommand("HLEN", layout.keys(0).transfers)], slot: layout.slot(0), deadline: .now + .seconds(10))[0].int ?? 0
            print("buckets: \(transfers - 2) transfers out of bucket 0 in the sale")
            #expect(transfers > 2)
            #expect(status.buckets.allSatisfy { $0.remaining == 0 && $0.pendingTransfers == 0 })
            let invariants = try await InvariantChecker(client: harness.client).check([item])
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
            #expect(invariants.soldUnits == stock)
            #expect(invariants.purchases == stock)
            // Every acknowledged order is in its bucket's stream.
            var stored = Set<String>()
            for index in 0..<layout.count {
                let keys = layout.keys(index)
                var from = "-"
                while true {
                    let reply = try await harness.client.execute(
                        [RESPCommand("XRANGE", keys.orders, from, "+", "COUNT", "1000")], slot: layout.slot(index),
                        deadline: .now + .seconds(10))[0]
                    let entries = (reply.array ?? []).compactMap { $0.array?.first?.string }
                    stored.formUnion(entries.map { BucketLayout.order(bucket: index, entry: $0) })
                    guard entries.count == 1000, let last = entries.last else { break }
                    from = "(" + last
                }
            }
            let missing = result.purchases.filter { !stored.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) acknowledged orders are missing")
        }
    }
}
