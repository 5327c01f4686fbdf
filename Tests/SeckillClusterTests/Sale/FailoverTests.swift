import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// A primary handing its slots to its replica on request (`CLUSTER FAILOVER`) while a
    /// sale runs.
    @Suite struct FailoverTests {
        @Test func manualFailoverMidSaleKeepsTheSaleGoingAndTheMapNamesThePromotedNode() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            let items = (0..<24).map { "\(harness.prefix)-\($0)" }
            for (index, item) in items.enumerated() {
                _ = try await coordinator.publish(item, stock: index < 3 ? 500 : 300, limitPerUser: 1)
            }
            let shoppers = Shoppers()
            let traffic = Task {
                await shoppers.run(coordinator, items: items, hot: 3, workers: 32, pause: .milliseconds(1), maxAttempts: 150_000)
            }
            #expect(await harness.eventually { shoppers.done >= 500 }, "the shoppers did not start")

            let slot = ClusterHarness.slot(of: items[0])
            let primary = try await cluster.primary(ofSlot: Int(slot.rawValue))
            let replica = try #require(try await cluster.replicas(of: primary).first)
            let began = ContinuousClock.now
            try await cluster.failover(replica: replica)
            let finished = ContinuousClock.now
            let doneAtFailover = shoppers.done
            _ = await harness.eventually { shoppers.done >= doneAtFailover + 3_000 }
            shoppers.stop()
            let tally = await traffic.value
            print(
                "manual failover \(primary.port)->\(replica.port) took \(String(format: "%.2f", (finished - began).secondsValue)) s; \(tally.attempts) attempts (\(doneAtFailover) by its end), \(tally.results), \(tally.errors.count) errors; test \(elapsed(since: start))"
            )

            // The sale went on: every call answered, none failed, some crossed the failover.
            #expect(tally.errors.isEmpty, "\(tally.errors.count) errors: \(Set(tally.errors).prefix(3))")
            let ownedItems = Set(
                items.indices.filter {
                    harness.client.router.node(for: ClusterHarness.slot(of: items[$0])).name == ClusterHarness.name(of: replica)
                })
            let during = tally.log.filter { ownedItems.contains($0.item) && $0.sent < finished && $0.returned > began }
            #expect(!during.isEmpty, "no call to the failing-over shard overlapped the failover")
            #expect(tally.log.filter { $0.sent > finished }.count >= 1_000)
            // Invariants hold and Redis holds exactly the acknowledged purchases.
            let invariants = try await InvariantChecker(client: harness.client).check(items)
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
            #expect(invariants.soldUnits == tally.purchased)
            #expect(invariants.purchases == tally.purchased)
            var missing = 0
            for item in items {
                let stored = try await harness.orderIDs(of: item)
                missing += tally.purchases.filter { $0.item == item && !stored.contains($0.order) }.count
            }
            #expect(missing == 0, "\(missing) acknowledged orders are missing")

            // The client's map names the promoted node as the owner of every slot it took over.
            let view = try await cluster.nodes(seenBy: replica)
            let promoted = try #require(view.first { $0.isMyself })
            #expect(promoted.isPrimary && promoted.serves(Int(slot.rawValue)))
            let name = ClusterHarness.name(of: replica)
            let followed = await harness.eventually(timeout: .seconds(5)) {
                promoted.slots.allSatisfy { range in
                    [range.lowerBound, range.upperBound].allSatisfy { harness.client.router.node(for: HashSlot($0)!).name == name }
                }
            }
            #expect(followed, "the client routes slot \(slot.rawValue) to \(harness.client.router.node(for: slot).name), not \(name)")
            #expect(!harness.client.router.map.nodes.contains { $0.name == ClusterHarness.name(of: primary) && !$0.slots.isEmpty })
            _ = try await coordinator.restock(items[0], units: 1)
            let result = try await coordinator.purchase(items[0], user: "after-failover")
            guard case .purchased(let order, _) = result else {
                Issue.record("purchase after the failover answered \(result)")
                return
            }
            let entry = try await cluster.command(replica, "XRANGE", ItemKeys(item: items[0]).orders, order, order)
            #expect(entry.array?.count == 1, "order \(order) is not on the promoted node")
        }
    }
}
