import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// Slots moving between primaries while a sale runs.
    @Suite struct ReshardingTests {
        @Test func movingTheHottestItemsMidSaleLosesNoOrderAndRequestsFollowTheSlot() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            // Items 0...2 are the hot ones (as in a SaleRunner sale under Zipf skew): three
            // quarters of the attempts go to them, more than their stock in all.
            let items = (0..<24).map { "\(harness.prefix)-\($0)" }
            for (index, item) in items.enumerated() {
                _ = try await coordinator.publish(item, stock: index < 3 ? 500 : 300, limitPerUser: 1)
            }
            let shoppers = Shoppers()
            let traffic = Task {
                await shoppers.run(coordinator, items: items, hot: 3, workers: 32, pause: .milliseconds(1), maxAttempts: 150_000)
            }
            #expect(await harness.eventually { shoppers.done >= 500 }, "the shoppers did not start")

            // Move each hot item's slot to the next primary, in steps, while the shoppers buy.
            let primaries = try await cluster.primaries()
            struct Move {
                var item: Int
                var slot: HashSlot
                var source: RedisServer
                var target: RedisServer
                var keys = 0
                var began: ContinuousClock.Instant
                var finished: ContinuousClock.Instant?
            }
            var moves: [Move] = []
            for index in 0..<3 {
                let slot = ClusterHarness.slot(of: items[index])
                guard !moves.contains(where: { $0.slot == slot }) else { continue }
                let source = try await cluster.primary(ofSlot: Int(slot.rawValue))
                let position = try #require(primaries.firstIndex { $0.port == source.port })
                var move = Move(item: index, slot: slot, source: source, target: primaries[(position + 1) % primaries.count], began: .now)
                let migration = try await cluster.beginMigration(slot: Int(slot.rawValue), from: source, to: move.target)
                move.keys = try await cluster.moveKeys(migration, batch: 100, limit: 300)
                try await Task.sleep(for: .milliseconds(100))
                move.keys += try await cluster.moveKeys(migration, batch: 100)
                try await cluster.finishMigration(migration)
                move.finished = .now
                moves.append(move)
            }
            let doneAtMoves = shoppers.done
            // Some more traffic on the new owners, then stop.
            _ = await harness.eventually { shoppers.done >= doneAtMoves + 3_000 }
            shoppers.stop()
            let tally = await traffic.value
            let status = try await coordinator.status(items)
            var redirects: [String] = []
            for server in primaries {
                let stats = try await cluster.command(server, "INFO", "errorstats").string ?? ""
                redirects += stats.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("errorstat_") }.map {
                    "\(server.port) \($0.dropFirst(10))"
                }
            }
            print(
                "resharding: moved \(moves.map { "slot \($0.slot.rawValue) (\($0.keys) keys) \($0.source.port)->\($0.target.port)" }); \(tally.attempts) attempts (\(doneAtMoves) by the end of the moves), \(tally.results), \(tally.errors.count) errors; hot items sold \(status.prefix(3).map { $0.map { "\($0.sold)/\($0.total)" } ?? "?" }); server errors \(redirects); test \(elapsed(since: start))"
            )
            // The shoppers met the move (ASK / TRYAGAIN / MOVED) and followed it.
            #expect(redirects.contains { $0.contains("ASK") || $0.contains("TRYAGAIN") || $0.contains("MOVED") })

            // Every call ended with an answer; an error, if any, says what happened.
            #expect(tally.errors.isEmpty, "\(tally.errors.count) errors: \(Set(tally.errors).prefix(3))")
            #expect(tally.silentErrors == 0)
            #expect(tally.log.count == tally.attempts)
            // Calls for the moving slot were in flight during each move and ended with answers.
            for move in moves {
                let finished = try #require(move.finished)
                let during = tally.log.filter { $0.item == move.item && $0.sent < finished && $0.returned > move.began }
                #expect(!during.isEmpty, "no call for item \(move.item) overlapped the move of slot \(move.slot.rawValue)")
                #expect(during.allSatisfy { $0.kind != "error" })
            }
            // No oversell and no lost order: Redis holds exactly the acknowledged purchases.
            let invariants = try await InvariantChecker(client: harness.client).check(items)
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
            #expect(invariants.soldUnits <= invariants.totalUnits)
            #expect(invariants.soldUnits == tally.purchased)
            #expect(invariants.purchases == tally.purchased)
            for (index, item) in status.prefix(3).enumerated() {
                let item = try #require(item)
                #expect(item.sold == item.total, "hot item \(index) sold \(item.sold) of \(item.total)")
            }
            var missing = 0
            for item in items {
                let stored = try await harness.orderIDs(of: item)
                missing += tally.purchases.filter { $0.item == item && !stored.contains($0.order) }.count
            }
            #expect(missing == 0, "\(missing) acknowledged orders are missing from the streams")

            // Requests follow the slot: the client routes to the new owner, which holds the keys
            // and serves a purchase.
            for move in moves {
                let item = items[move.item]
                let target = ClusterHarness.name(of: move.target)
                let routed = await harness.eventually(timeout: .seconds(5)) { harness.client.router.node(for: move.slot).name == target }
                #expect(routed, "slot \(move.slot.rawValue) is routed to \(harness.client.router.node(for: move.slot).name), not \(target)")
                let onSource = try await cluster.command(move.source, "CLUSTER", "COUNTKEYSINSLOT", String(move.slot.rawValue)).int
                let onTarget = try await cluster.command(move.target, "CLUSTER", "COUNTKEYSINSLOT", String(move.slot.rawValue)).int
                #expect(onSource == 0)
                #expect((onTarget ?? 0) >= 3)

                _ = try await coordinator.restock(item, units: 1)
                let result = try await coordinator.purchase(item, user: "after-move")
                guard case .purchased(let order, _) = result else {
                    Issue.record("purchase of \(item) after the move answered \(result)")
                    continue
                }
                let entry = try await cluster.command(move.target, "XRANGE", ItemKeys(item: item).orders, order, order)
                #expect(entry.array?.count == 1, "order \(order) is not on the new owner \(target)")
            }
            let after = try await InvariantChecker(client: harness.client).check(items)
            #expect(after.holds, "\(after.violations.prefix(5))")
        }

        @Test func multiKeyCommandOnAMigratingSlotWaitsForTheMoveInsteadOfGivingUp() async throws {
            let harness = try await ClusterHarness.start(primaries: 3, replicas: 0)
            let cluster = harness.cluster
            let client = harness.client
            let slot = HashSlot(key: "{move}")
            let source = try await cluster.primary(ofSlot: Int(slot.rawValue))
            let target = try #require(try await cluster.primaries().first { $0.port != source.port })
            _ = try await client.send(RESPCommand("SET", "{move}old", "1"), key: "{move}old")
            let migration = try await cluster.beginMigration(slot: Int(slot.rawValue), from: source, to: target)
            try await cluster.moveKeys(migration)

            // New keys only: the source answers ASK, the target TRYAGAIN (keys missing) until
            // the slot is its own. The call waits within its deadline and then lands there.
            let sent = ContinuousClock.now
            let call = Task {
                try await client.execute([RESPCommand("MSET", "{move}a", "1", "{move}b", "2")], slot: slot, deadline: .now + .seconds(10))
            }
            try await Task.sleep(for: .milliseconds(300))
            try await cluster.finishMigration(migration)
            let replies = try await call.value
            #expect(replies.first?.string == "OK", "\(replies)")
            #expect(ContinuousClock.now - sent >= .milliseconds(300))
            #expect(client.router.node(for: slot).name == ClusterHarness.name(of: target))
            let stored = try await cluster.command(target, "MGET", "{move}a", "{move}b", "{move}old")
            #expect(stored.array?.compactMap(\.string) == ["1", "2", "1"])
        }
    }
}
