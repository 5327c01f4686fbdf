import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// A primary handing its slots to its replica while a sale runs: on request
    /// (`CLUSTER FAILOVER`) and after being killed.
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
            print("manual failover \(primary.port)->\(replica.port) took \(String(format: "%.2f", (finished - began).secondsValue)) s; \(tally.attempts) attempts (\(doneAtFailover) by its end), \(tally.results), \(tally.errors.count) errors; test \(elapsed(since: start))")

            // The sale went on: every call answered, none failed, some crossed the failover.
            #expect(tally.errors.isEmpty, "\(tally.errors.count) errors: \(Set(tally.errors).prefix(3))")
            let ownedItems = Set(items.indices.filter { harness.client.router.node(for: ClusterHarness.slot(of: items[$0])).name == ClusterHarness.name(of: replica) })
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

        @Test func killedPrimaryMidSaleLosesNoReplicatedAcknowledgedPurchase() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let cluster = harness.cluster
            let primaries = try await cluster.primaries()
            var lost: [Int] = []
            for (phase, replicas) in [0, 1].enumerated() {
                let phaseStart = ContinuousClock.now
                let victim = primaries[phase]
                let coordinator = harness.coordinator(durabilityReplicas: replicas)
                // Items on the victim only, with stock to spare: every attempt writes.
                let items: [String] = Array((0..<1_000).map { "\(harness.prefix)-kill\(phase)-\($0)" }
                    .filter { harness.client.router.node(for: ClusterHarness.slot(of: $0)).name == ClusterHarness.name(of: victim) }
                    .prefix(8))
                for item in items { _ = try await coordinator.publish(item, stock: 1_000_000, limitPerUser: 1) }
                let shoppers = Shoppers()
                let traffic = Task {
                    await shoppers.run(coordinator, items: items, workers: 32, maxAttempts: 100_000, maxDuration: .seconds(40))
                }
                #expect(await harness.eventually { shoppers.done >= 2_000 }, "the shoppers did not start")
                var before: [String] = []
                for server in [victim] + (try await cluster.replicas(of: victim)) {
                    let info = try await cluster.command(server, "INFO", "replication").string ?? ""
                    let size = try await cluster.command(server, "DBSIZE").int ?? -1
                    before.append("\(server.port) keys=\(size) " + info.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("role") || $0.hasPrefix("master_repl_offset") || $0.hasPrefix("slave_repl_offset") || $0.hasPrefix("master_link_status") }.joined(separator: " "))
                }
                print("DEBUG before kill: \(before)")
                let killed = ContinuousClock.now
                let promoted = try await cluster.kill(primary: victim)
                print("DEBUG after: promoted keys=\(try await cluster.command(promoted, "DBSIZE"))", try await cluster.command(promoted, "CLUSTER", "NODES"))
                let promotedAt = ContinuousClock.now
                let doneAtPromotion = shoppers.done
                _ = await harness.eventually(timeout: .seconds(15)) { shoppers.done >= doneAtPromotion + 2_000 }
                shoppers.stop()
                let tally = await traffic.value

                // Calls in the outage ended with an answer after the promotion or a clear error.
                #expect(tally.silentErrors == 0)
                #expect(tally.log.count == tally.attempts)
                let afterPromotion = tally.log.filter { $0.sent > promotedAt }
                #expect(afterPromotion.count >= 1_000, "\(afterPromotion.count) attempts after the promotion")
                #expect(afterPromotion.allSatisfy { $0.kind == "purchased" }, "\(Set(afterPromotion.map(\.kind)))")
                // The surviving nodes hold a consistent sale.
                let invariants = try await InvariantChecker(client: harness.client).check(items)
                #expect(invariants.holds, "\(invariants.violations.prefix(5))")
                var stored = Set<String>()
                for item in items { stored.formUnion(try await harness.orderIDs(of: item)) }
                let missing = tally.purchases.filter { !stored.contains($0.order) }
                let missingReplicated = missing.filter(\.replicated).count
                let unreplicated = tally.purchases.filter { !$0.replicated }.count
                lost.append(missingReplicated)
                print("kill \(victim.port) (durability replicas=\(replicas)): promoted \(promoted.port) after \(String(format: "%.1f", (promotedAt - killed).secondsValue)) s; \(tally.attempts) attempts, \(tally.purchased) acknowledged (\(unreplicated) not replicated in time), \(missing.count) of them missing afterwards (\(missingReplicated) replicated); \(tally.errors.count) errors (\(tally.unknownOutcomes) outcome unknown) \(Array(Set(tally.errors).prefix(2))); phase \(elapsed(since: phaseStart))")
                #expect(tally.errors.count <= tally.attempts / 10, "\(Array(Set(tally.errors).prefix(3)))")
                if replicas > 0 {
                    #expect(missingReplicated == 0, "\(missingReplicated) purchases acknowledged as replicated are missing")
                }
                // The map follows: the promoted node serves the items.
                #expect(await harness.eventually(timeout: .seconds(5)) {
                    items.allSatisfy { harness.client.router.node(for: ClusterHarness.slot(of: $0)).name == ClusterHarness.name(of: promoted) }
                })
            }
            print("lost acknowledged purchases: off=\(lost[0]) on=\(lost[1]); test \(elapsed(since: start))")
        }
    }
}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
