import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// A primary killed (SIGKILL) while a sale runs, its replica promoted automatically.
    @Suite struct PrimaryKillTests {
        /// What one kill did to the purchases acknowledged around it.
        struct KillOutcome {
            var tally: Shoppers.Tally
            var promoted: RedisServer
            /// Acknowledged purchases whose order is not in Redis afterwards.
            var missing: [Shoppers.Purchase]
            /// Attempts sent after the cluster was stable again.
            var afterPromotion: [Shoppers.Attempt]
        }

        @Test func killedPrimaryMidSaleLosesNoPurchaseAcknowledgedAsReplicated() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let primaries = try await harness.cluster.primaries()

            // Durability off, then on (WAIT 1 100 ms), each time killing another primary.
            let off = try await killMidSale(harness, victim: primaries[0], durabilityReplicas: 0, phase: "off")
            let on = try await killMidSale(harness, victim: primaries[1], durabilityReplicas: 1, phase: "on")
            let lostOn = on.missing.filter(\.replicated).count
            print(
                "lost acknowledged purchases: off=\(off.missing.count) on=\(lostOn) (on, not replicated in time: \(on.missing.count - lostOn) missing of \(on.tally.purchases.filter { !$0.replicated }.count)); test \(elapsed(since: start))"
            )
            #expect(lostOn == 0, "\(lostOn) purchases acknowledged as replicated are missing")

            for outcome in [off, on] {
                // Calls in the outage ended with an answer after the promotion, or a clear error.
                #expect(outcome.tally.silentErrors == 0)
                #expect(outcome.tally.errors.count <= outcome.tally.attempts / 10, "\(Array(Set(outcome.tally.errors).prefix(3)))")
                // With durability on the promoted primary has no replica left, so every WAIT
                // runs to its timeout and far fewer attempts complete in the same time.
                #expect(outcome.afterPromotion.count >= 40, "\(outcome.afterPromotion.count) attempts after the promotion")
                #expect(
                    outcome.afterPromotion.allSatisfy { Shoppers.inStockAnswers.contains($0.kind) },
                    "\(Set(outcome.afterPromotion.map(\.kind)))")
            }

            // Afterwards the client knows the surviving primaries only, and a whole sale (which
            // loads its scripts on every primary first) runs over them.
            try await harness.client.refreshTopology()
            let survivors = try await harness.cluster.primaries().map(ClusterHarness.name(of:))
            #expect(Set(harness.client.nodes.map(\.name)) == Set(survivors))
            var after = harness.saleConfig(items: 20, stock: 5, users: 1_000, requests: 2_000, concurrency: 20)
            after.prefix = "\(harness.prefix)-after"
            let report = try await SaleRunner(coordinator: harness.coordinator()).run(after)
            #expect(report.errors == 0, "\(report.errorSamples)")
            #expect(report.purchased == 100 && report.invariants.holds && report.invariants.soldUnits == 100)
        }

        /// Shoppers buy items of `victim` only (with stock to spare, so every attempt writes);
        /// `victim` is killed after 2,000 attempts; once a replica is promoted they go on a
        /// while. Checks the invariants on the surviving nodes and that the client follows.
        private func killMidSale(
            _ harness: ClusterHarness, victim: RedisServer, durabilityReplicas: Int, phase: String
        ) async throws -> KillOutcome {
            let started = ContinuousClock.now
            let cluster = harness.cluster
            let coordinator = harness.coordinator(durabilityReplicas: durabilityReplicas)
            let items: [String] = Array(
                (0..<1_000).map { "\(harness.prefix)-\(phase)-\($0)" }
                    .filter { harness.client.router.node(for: ClusterHarness.slot(of: $0)).name == ClusterHarness.name(of: victim) }
                    .prefix(8))
            for item in items { _ = try await coordinator.publish(item, stock: 1_000_000, limitPerUser: 1) }
            let shoppers = Shoppers()
            let traffic = Task {
                await shoppers.run(coordinator, items: items, workers: 32, maxAttempts: 100_000, maxDuration: .seconds(40))
            }
            #expect(await harness.eventually { shoppers.done >= 2_000 }, "the shoppers did not start")
            let killed = ContinuousClock.now
            let promoted = try await cluster.kill(primary: victim)
            let promotedAt = ContinuousClock.now
            // Should the promoted node lack the items (it never received the primary's
            // writes), its log says why.
            let probe = ItemKeys(item: items[0]).meta
            if try await cluster.command(promoted, "HGET", probe, "total").string == nil {
                let log = (try? String(contentsOf: promoted.directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
                print(
                    "diagnostic: \(promoted.port) lacks \(probe); its log:\n\(log.split(separator: "\n").suffix(60).joined(separator: "\n"))"
                )
            }
            let doneAtPromotion = shoppers.done
            _ = await harness.eventually(timeout: .seconds(6)) { shoppers.done >= doneAtPromotion + 2_000 }
            let tail = ContinuousClock.now - promotedAt
            shoppers.stop()
            let tally = await traffic.value

            // The surviving nodes hold a consistent sale, and the client routes to them.
            let invariants = try await InvariantChecker(client: harness.client).check(items)
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
            #expect(
                await harness.eventually(timeout: .seconds(5)) {
                    items.allSatisfy {
                        harness.client.router.node(for: ClusterHarness.slot(of: $0)).name == ClusterHarness.name(of: promoted)
                    }
                })
            var stored = Set<String>()
            for item in items { stored.formUnion(try await harness.orderIDs(of: item)) }
            let outcome = KillOutcome(
                tally: tally, promoted: promoted, missing: tally.purchases.filter { !stored.contains($0.order) },
                afterPromotion: tally.log.filter { $0.sent > promotedAt })
            print(
                "kill \(victim.port) (durability \(phase)): \(promoted.port) promoted after \(String(format: "%.1f", (promotedAt - killed).secondsValue)) s; \(tally.attempts) attempts, \(tally.purchased) acknowledged (\(tally.purchases.filter { !$0.replicated }.count) not replicated in time), \(outcome.missing.count) of them missing afterwards; \(tally.errors.count) errors (\(tally.unknownOutcomes) outcome unknown) \(Array(Set(tally.errors).prefix(2))); \(outcome.afterPromotion.count) attempts sent in the \(String(format: "%.1f", tail.secondsValue)) s after the promotion; \(elapsed(since: started))"
            )
            return outcome
        }
    }
}
