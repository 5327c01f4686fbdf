import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// A primary joining a running cluster and taking over slots.
    @Suite struct AddNodeTests {
        @Test func addedPrimaryGivenSlotsIsUsedWithoutRestartingTheClient() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start(primaries: 3, replicas: 0)
            let cluster = harness.cluster
            let client = harness.client
            let coordinator = harness.coordinator()
            let items = (0..<12).map { "\(harness.prefix)-\($0)" }
            for item in items { _ = try await coordinator.publish(item, stock: 1_000_000, limitPerUser: 1) }
            let moving = items[0]
            let slot = ClusterHarness.slot(of: moving)
            let source = try await cluster.primary(ofSlot: Int(slot.rawValue))
            let shoppers = Shoppers()
            let traffic = Task {
                await shoppers.run(coordinator, items: items, hot: 1, workers: 16, pause: .milliseconds(2), maxAttempts: 100_000)
            }
            #expect(await harness.eventually { shoppers.done >= 300 }, "the shoppers did not start")

            // The new node joins without slots, then takes the item's slot and a few of its
            // neighbours (which hold no keys) from their owner.
            let added = try await cluster.addPrimary()
            let sourceID = try await cluster.nodeID(of: source)
            let view = try await cluster.nodes(seenBy: source)
            let owned = try #require(view.first { $0.id == sourceID })
            let slots = (Int(slot.rawValue) - 4...Int(slot.rawValue) + 4).filter { owned.serves($0) }
            for value in slots { try await cluster.migrate(slot: value, from: source, to: added) }
            let movedAt = shoppers.done
            let movedInstant = ContinuousClock.now
            _ = await harness.eventually { shoppers.done >= movedAt + 1_000 }
            shoppers.stop()
            let tally = await traffic.value

            // Without a restart, the client sends the item to the new node, which serves it.
            let name = ClusterHarness.name(of: added)
            let result = try await coordinator.purchase(moving, user: "after-add")
            guard case .purchased(let order, _) = result else {
                Issue.record("purchase of \(moving) on the new node answered \(result)")
                return
            }
            #expect(client.router.node(for: slot).name == name)
            #expect(client.router.map.nodes.contains { $0.name == name })
            let entry = try await cluster.command(added, "XRANGE", ItemKeys(item: moving).orders, order, order)
            #expect(entry.array?.count == 1, "order \(order) is not on the new node")
            // A refresh gives the new node all of its slots.
            try await client.refreshTopology()
            for value in slots { #expect(client.router.node(for: HashSlot(value)!).name == name) }
            #expect(client.nodes.count == 4)
            let afterMove = tally.log.filter { $0.item == 0 && $0.sent > movedInstant }
            #expect(
                !afterMove.isEmpty && afterMove.allSatisfy { Shoppers.inStockAnswers.contains($0.kind) }, "\(Set(afterMove.map(\.kind)))")
            print(
                "add node \(added.port): took slots \(slots) from \(source.port); \(tally.attempts) attempts (\(movedAt) by the end of the moves, \(afterMove.count) for the moving item after them), \(tally.results), \(tally.errors.count) errors; test \(elapsed(since: start))"
            )

            // The sale went on throughout, with nothing lost.
            #expect(tally.errors.isEmpty, "\(tally.errors.count) errors: \(Array(Set(tally.errors).prefix(3)))")
            let invariants = try await InvariantChecker(client: client).check(items)
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
            #expect(invariants.purchases == tally.purchased + 1)
            var missing = 0
            for item in items {
                let stored = try await harness.orderIDs(of: item)
                missing += tally.purchases.filter { $0.item == item && !stored.contains($0.order) }.count
            }
            #expect(missing == 0)
        }
    }
}
