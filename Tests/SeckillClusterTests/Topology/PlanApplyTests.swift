import Foundation
import SeckillCLI
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// `seckill plan --apply` on a real Redis Cluster: slots placed from demand while shoppers buy.
    @Suite struct PlanApplyTests {
        /// Runs the command line in this process.
        static func seckill(_ arguments: [String]) async -> (status: Int32, stdout: String, stderr: String) {
            let console = Console.capturing()
            let status = await SeckillCommandLine.run(arguments, console: console)
            return (status, console.capturedOutput, console.capturedError)
        }

        /// A cluster-mode config file for the harness and a demand file giving each of `items` `share`.
        static func files(_ harness: ClusterHarness, items: [String], share: Double) throws -> (config: String, demand: String) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seckill-plan-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let config = directory + "/cluster.json"
            try ClusterHarness.config(ports: harness.cluster.ports).render().write(toFile: config, atomically: true, encoding: .utf8)
            let entries = items.map { #"{"item": "\#($0)", "share": \#(share)}"# }.joined(separator: ", ")
            let demand = directory + "/demand.json"
            try #"{"items": [\#(entries)]}"#.write(toFile: demand, atomically: true, encoding: .utf8)
            return (config, demand)
        }

        /// `count` item ids under the harness's prefix whose slots the same primary serves.
        static func itemsOnOnePrimary(_ harness: ClusterHarness, count: Int, name: String) -> [String] {
            let owner = harness.client.router.node(for: ClusterHarness.slot(of: "\(harness.prefix)-\(name)-0")).name
            var found: [String] = []
            var index = 0
            while found.count < count {
                let item = "\(harness.prefix)-\(name)-\(index)"
                if harness.client.router.node(for: ClusterHarness.slot(of: item)).name == owner { found.append(item) }
                index += 1
            }
            return found
        }

        @Test func planApplyMovesHotSlotsToDistinctPrimariesWhilePurchasesRunWithoutErrors() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            let hot = Self.itemsOnOnePrimary(harness, count: 3, name: "hot")
            let items = hot + (0..<21).map { "\(harness.prefix)-cold-\($0)" }
            for item in items { _ = try await coordinator.publish(item, stock: hot.contains(item) ? 3_000 : 300, limitPerUser: 1) }
            let (config, demand) = try Self.files(harness, items: hot, share: 0.3)

            let shoppers = Shoppers()
            let traffic = Task {
                await shoppers.run(coordinator, items: items, hot: 3, workers: 16, pause: .milliseconds(1), maxAttempts: 100_000)
            }
            #expect(await harness.eventually { shoppers.done >= 300 }, "the shoppers did not start")
            let doneBefore = shoppers.done
            let run = await Self.seckill(["plan", "--demand", demand, "--config", config, "--apply", "--json"])
            let doneDuring = shoppers.done - doneBefore
            _ = await harness.eventually { shoppers.done >= doneBefore + doneDuring + 1_000 }
            shoppers.stop()
            let tally = await traffic.value
            print(
                "plan --apply: \(run.stderr.split(separator: "\n").count) progress lines, \(doneDuring) attempts during the moves, \(tally.attempts) in all, \(tally.results), \(tally.errors.count) errors; test \(elapsed(since: start))"
            )

            #expect(run.status == 0, "\(run.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let moves = try #require(report["moves"] as? [[String: Any]])
            #expect(moves.count == 2)
            #expect(report["slotsMoved"] as? Int == 2)
            #expect(moves.allSatisfy { ($0["fromId"] as? String)?.count == 40 && ($0["toId"] as? String)?.count == 40 })
            // Each move names the published hot item it carries.
            for move in moves {
                let labels = move["labels"] as? [String] ?? []
                #expect(labels.count == 1 && (move["publishedItems"] as? [String])?.contains(labels[0]) == true, "\(move)")
            }
            #expect(run.stderr.contains("move 1/2") && run.stderr.contains("now served by"))
            #expect(doneDuring > 0, "no purchase ran while the slots moved")
            // The shoppers' client met the moves (ASK during one, MOVED after) and followed them.
            #expect(harness.client.nodeMetrics().reduce(0) { $0 + $1.redirects } > 0)

            // Each hot item is now on its own primary, and the cluster agrees everywhere.
            try await cluster.waitUntilStable()
            var owners = Set<Int>()
            for item in hot { owners.insert(try await cluster.primary(ofSlot: Int(ClusterHarness.slot(of: item).rawValue)).port) }
            #expect(owners.count == 3)

            // Every attempt got an answer, and Redis holds exactly the acknowledged purchases.
            #expect(tally.errors.isEmpty, "\(tally.errors.count) errors: \(Set(tally.errors).prefix(3))")
            let invariants = try await InvariantChecker(client: harness.client).check(items)
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
            #expect(invariants.soldUnits == tally.purchased)
            var missing = 0
            for item in hot {
                let stored = try await harness.orderIDs(of: item)
                missing += tally.purchases.filter { $0.item == item && !stored.contains($0.order) }.count
            }
            #expect(missing == 0, "\(missing) acknowledged orders of hot items are missing")

            // A second plan finds the placement balanced.
            let again = await Self.seckill(["plan", "--demand", demand, "--config", config, "--json"])
            #expect(again.status == 0, "\(again.stderr)")
            let second = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
            #expect((second["moves"] as? [Any])?.isEmpty == true, "\(again.stdout)")
        }

        @Test func planApplyRefusesAClusterWithASlotLeftMigratingAndMovesNothing() async throws {
            let harness = try await ClusterHarness.start(primaries: 3, replicas: 0)
            let cluster = harness.cluster
            let hot = Self.itemsOnOnePrimary(harness, count: 3, name: "hot")
            let (config, demand) = try Self.files(harness, items: hot, share: 0.3)
            let slots = hot.map { Int(ClusterHarness.slot(of: $0).rawValue) }
            let source = try await cluster.primary(ofSlot: slots[0])

            // Another slot of that primary left half-moved.
            let open = (0..<16384).first { slot in
                !slots.contains(slot) && harness.client.router.map.node(for: HashSlot(slot)!).port == source.port
            }!
            let target = try #require(try await cluster.primaries().first { $0.port != source.port })
            let migration = try await cluster.beginMigration(slot: open, from: source, to: target)

            let run = await Self.seckill(["plan", "--demand", demand, "--config", config, "--apply"])
            #expect(run.status == 1)
            #expect(run.stderr.contains("not healthy") && run.stderr.contains("nothing was moved"), "\(run.stderr)")
            #expect(run.stderr.contains("slot \(open) is migrating") || run.stderr.contains("slot \(open) is importing"), "\(run.stderr)")
            for slot in slots { #expect(try await cluster.primary(ofSlot: slot).port == source.port) }

            // Once the move is finished the same command goes through.
            try await cluster.finishMigration(migration)
            let retried = await Self.seckill(["plan", "--demand", demand, "--config", config, "--apply"])
            #expect(retried.status == 0, "\(retried.stderr)")
            try await cluster.waitUntilStable()
            var owners = Set<Int>()
            for slot in slots { owners.insert(try await cluster.primary(ofSlot: slot).port) }
            #expect(owners.count == 3)
        }
    }
}
