import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// Reads of many items (status, the invariant checker) and batch purchases take the
    /// client's one route while slots move, as single purchases do.
    @Suite struct StatusRoutingTests {
        @Test func statusAndBatchPurchasesFollowSlotsMidMigrationAndAfterTheMove() async throws {
            let harness = try await ClusterHarness.start(primaries: 3, replicas: 0)
            let cluster = harness.cluster
            let client = harness.client
            let coordinator = harness.coordinator()
            let items = (0..<6).map { "\(harness.prefix)-s\($0)" }
            // Distinct counters per item: item i has stock 10 + i, limit i % 3, i buyers.
            for (index, item) in items.enumerated() {
                _ = try await coordinator.publish(item, stock: 10 + index, limitPerUser: index % 3)
                for buyer in 0..<index { _ = try await coordinator.purchase(item, user: "before-\(buyer)") }
            }
            // The moving items have had a purchase, so every key a purchase names exists and
            // moves (a script naming a missing key would wait out the move with TRYAGAIN).
            let moving = [items[1], items[2]]

            func expectCounters(_ statuses: [ItemStatus?], sold extra: [String: Int] = [:], _ when: String) {
                #expect(statuses.count == items.count)
                for (index, item) in items.enumerated() {
                    guard let status = statuses[index] else {
                        Issue.record("\(when): \(item) reported unpublished")
                        continue
                    }
                    #expect(status.item == item, "\(when)")
                    #expect(status.total == 10 + index, "\(when): \(item)")
                    #expect(status.sold == index + (extra[item] ?? 0), "\(when): \(item)")
                    #expect(status.buyers == index + (extra[item] ?? 0), "\(when): \(item)")
                    #expect(status.limit == index % 3, "\(when): \(item)")
                    #expect(status.epoch == 1, "\(when): \(item)")
                }
            }

            // Each moving item's slot goes to the next primary.
            let primaries = try await cluster.primaries()
            var migrations: [(item: String, slot: HashSlot, source: RedisServer, migration: RedisCluster.Migration)] = []
            for item in moving {
                let slot = ClusterHarness.slot(of: item)
                let source = try await cluster.primary(ofSlot: Int(slot.rawValue))
                let position = try #require(primaries.firstIndex { $0.port == source.port })
                let target = primaries[(position + 1) % primaries.count]
                let migration = try await cluster.beginMigration(slot: Int(slot.rawValue), from: source, to: target)
                migrations.append((item, slot, source, migration))
            }
            // MIGRATING, keys still on the source.
            expectCounters(try await coordinator.status(items), "slots migrating, keys on the source")

            // MIGRATING, every key on the target: the source answers ASK for each of them.
            for move in migrations { #expect(try await cluster.moveKeys(move.migration) == 4) }
            let midMove = try await coordinator.status(items)
            expectCounters(midMove, "keys moved, slots still migrating")
            for (move, status) in zip(migrations, midMove.filter { moving.contains($0?.item ?? "") }) {
                #expect(status?.node == ClusterHarness.name(of: move.migration.target), "\(move.item) answered by \(status?.node ?? "?")")
            }
            // A single call of several commands through ASK: each needs its own ASKING.
            let keys = ItemKeys(item: moving[0])
            let pair = try await client.execute(
                [RESPCommand("HGET", keys.meta, "total"), RESPCommand("HLEN", keys.buyers)], slot: migrations[0].slot,
                deadline: .now + .seconds(10))
            #expect(pair.map(\.int) == [11, 1], "\(pair)")

            // A batch over every item during the move: the moving items' remaining stock and
            // more, from new users. Every unit is bought once, the rest are refused sold out.
            var requests: [PurchaseRequest] = []
            var expectedBought: [String: Int] = [:]
            for item in items {
                // Stock 10 + i, i sold: 10 left of each.
                let remaining = 10
                let attempts = moving.contains(item) ? remaining + 3 : 2
                for attempt in 0..<attempts {
                    requests.append(PurchaseRequest(item: item, user: "batch-\(attempt)", requestID: "\(item)-batch-\(attempt)"))
                }
                expectedBought[item] = min(attempts, remaining)
            }
            let results = await coordinator.purchase(requests)
            for (request, result) in zip(requests, results) {
                guard case .success(let outcome) = result else {
                    Issue.record("\(request.item) \(request.user): \(result)")
                    continue
                }
                #expect(outcome.kind == "purchased" || outcome == .soldOut(remaining: 0), "\(request.item) \(request.user): \(outcome)")
            }
            for item in items {
                let bought = zip(requests, results).filter { $0.0.item == item && (try? $0.1.get())?.kind == "purchased" }.count
                #expect(bought == expectedBought[item], "\(item): \(bought) bought")
            }
            expectCounters(try await coordinator.status(items), sold: expectedBought, "after the batch, slots still migrating")
            // The checker's first reads go out grouped per node too, and follow the ASKs.
            let midCheck = try await InvariantChecker(client: client).check(items)
            #expect(midCheck.holds, "\(midCheck.violations.prefix(5)) \(midCheck.unreadable.prefix(2))")
            #expect(midCheck.items == items.count)
            #expect(midCheck.soldUnits == items.indices.reduce(0, +) + expectedBought.values.reduce(0, +))
            // SCAN per node finds each item once, the moving ones on their targets.
            #expect(try await coordinator.allItems().filter { $0.hasPrefix(harness.prefix) } == items.sorted())

            // The move done; the client's map still names the old owners until a MOVED.
            // finishMigration waits for a cluster without open slots: give every slot but the
            // last to its target by hand (its keys are all there), then finish the last.
            for move in migrations.dropLast() {
                for server in [move.migration.target, move.migration.source]
                    + primaries.filter({
                        $0.port != move.migration.source.port && $0.port != move.migration.target.port
                    })
                {
                    let reply = try await cluster.command(
                        server, "CLUSTER", "SETSLOT", String(move.slot.rawValue), "NODE", move.migration.targetID)
                    #expect(reply.string == "OK", "\(reply)")
                }
            }
            try await cluster.finishMigration(try #require(migrations.last).migration)
            for move in migrations {
                #expect(client.router.node(for: move.slot).name == ClusterHarness.name(of: move.source), "the map is still the old one")
            }
            let afterMove = try await coordinator.status(items)
            expectCounters(afterMove, sold: expectedBought, "after the move, before a refresh")
            for move in migrations {
                let status = afterMove[items.firstIndex(of: move.item)!]
                #expect(status?.node == ClusterHarness.name(of: move.migration.target))
                #expect(client.router.node(for: move.slot).name == ClusterHarness.name(of: move.migration.target), "MOVED updates the map")
            }
            let invariants = try await InvariantChecker(client: client).check(items)
            #expect(invariants.holds, "\(invariants.violations.prefix(5)) \(invariants.unreadable.prefix(2))")
            #expect(invariants.soldUnits == items.indices.reduce(0, +) + expectedBought.values.reduce(0, +))
            #expect(invariants.purchases == invariants.soldUnits)
        }
    }
}
