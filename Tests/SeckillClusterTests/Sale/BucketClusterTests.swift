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
            let invariants = try await InvariantChecker(client: harness.client).check([item, six])
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
        }

        @Test func aBucketsSlotReshardedAndAnotherBucketsPrimaryFailedOverMidSaleKeepTheSaleExact() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            let item = "\(harness.prefix)-hot"
            let stock = 12_000
            _ = try await coordinator.publish(item, stock: stock, limitPerUser: 1, buckets: 3)
            let layout = try #require(coordinator.cachedLayout(item))
            let shoppers = Shoppers()
            let traffic = Task {
                await shoppers.run(
                    coordinator, items: [item], workers: 32, pause: .milliseconds(1), maxAttempts: 200_000, maxDuration: .seconds(120))
            }
            #expect(await harness.eventually { shoppers.done >= 500 }, "the shoppers did not start")

            // Bucket 0's slot moves to another primary, in steps, while the shoppers buy.
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
            let doneAtMove = shoppers.done

            // Bucket 1's primary hands over to its replica.
            let primary = try await cluster.primary(ofSlot: Int(layout.slot(1).rawValue))
            let replica = try #require(try await cluster.replicas(of: primary).first)
            try await cluster.failover(replica: replica)
            let doneAtFailover = shoppers.done

            // The shoppers buy the rest.
            let soldOut = await harness.eventually(timeout: .seconds(90)) {
                (try? await coordinator.status([item]).first??.remaining) == 0
            }
            _ = await harness.eventually { shoppers.done >= doneAtFailover + 200 }
            shoppers.stop()
            let tally = await traffic.value
            print(
                "buckets: slot \(slot) (\(moved) keys) \(source.port)->\(target.port) by attempt \(doneAtMove), failover \(primary.port)->\(replica.port) by \(doneAtFailover); \(tally.attempts) attempts, \(tally.results), \(tally.errors.count) errors; test \(elapsed(since: start))"
            )
            #expect(soldOut, "the item did not sell out")
            #expect(doneAtMove < tally.attempts && doneAtFailover < tally.attempts)
            #expect(tally.errors.isEmpty, "\(tally.errors.count) errors: \(Set(tally.errors).prefix(3))")
            #expect(tally.purchased == stock)

            let status = try #require(try await coordinator.status([item]).first ?? nil)
            #expect(status.sold == stock)
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
            let missing = tally.purchases.filter { !stored.contains($0.order) }
            #expect(missing.isEmpty, "\(missing.count) acknowledged orders are missing")
        }
    }
}
