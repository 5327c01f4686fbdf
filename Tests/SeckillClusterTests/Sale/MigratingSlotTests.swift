import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// A slot in the middle of a move (`MIGRATING` on the source, `IMPORTING` on the target).
    @Suite struct MigratingSlotTests {
        /// `errorstat_TRYAGAIN` and `errorstat_ASK` counts of `server` since its last `CONFIG RESETSTAT`.
        static func errors(_ cluster: RedisCluster, _ server: RedisServer) async throws -> (tryAgain: Int, ask: Int) {
            let text = try await cluster.command(server, "INFO", "errorstats").string ?? ""
            func count(_ code: String) -> Int {
                guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("errorstat_\(code):") }),
                    let value = line.split(separator: "=").last.flatMap({ Int($0) })
                else { return 0 }
                return value
            }
            return (count("TRYAGAIN"), count("ASK"))
        }

        @Test func purchasesWithNewRequestIDsAreServedWhileTheSlotMigratesWithoutTryAgain() async throws {
            let harness = try await ClusterHarness.start()
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            let item = "\(harness.prefix)-migrating"
            _ = try await coordinator.publish(item, stock: 1_000)
            // The first purchase creates the buyers hash, the orders stream and the request
            // records: from then on every key a purchase names exists.
            #expect(try await coordinator.purchase(item, user: "first", requestID: "m-0").kind == "purchased")

            let slot = Int(ClusterHarness.slot(of: item).rawValue)
            let source = try await cluster.primary(ofSlot: slot)
            let primaries = try await cluster.primaries()
            let position = try #require(primaries.firstIndex { $0.port == source.port })
            let target = primaries[(position + 1) % primaries.count]
            for server in [source, target] { _ = try await cluster.command(server, "CONFIG", "RESETSTAT") }

            let migration = try await cluster.beginMigration(slot: slot, from: source, to: target)
            var kinds: [String] = []
            // Every key still on the source: purchases with ids never seen run there.
            for index in 0..<50 {
                kinds.append(try await coordinator.purchase(item, user: "a\(index)", requestID: "m-a-\(index)").kind)
            }
            // Every key moved (one MIGRATE ... KEYS): the source answers ASK, the target runs them.
            let moved = try await cluster.moveKeys(migration, batch: 100)
            for index in 0..<50 {
                kinds.append(try await coordinator.purchase(item, user: "b\(index)", requestID: "m-b-\(index)").kind)
            }
            let duringMove = (source: try await Self.errors(cluster, source), target: try await Self.errors(cluster, target))
            try await cluster.finishMigration(migration)
            for index in 0..<20 {
                kinds.append(try await coordinator.purchase(item, user: "c\(index)", requestID: "m-c-\(index)").kind)
            }
            print(
                "migrating slot \(slot): \(moved) keys moved; source TRYAGAIN \(duringMove.source.tryAgain) ASK \(duringMove.source.ask); target TRYAGAIN \(duringMove.target.tryAgain)"
            )

            #expect(moved == 4, "item hash, buyers, orders and request records")
            #expect(kinds.allSatisfy { $0 == "purchased" })
            #expect(duringMove.source.tryAgain == 0)
            #expect(duringMove.target.tryAgain == 0)
            #expect(duringMove.source.ask >= 50, "the moved keys were reached through ASK")
            let invariants = try await InvariantChecker(client: harness.client).check([item])
            #expect(invariants.holds, "\(invariants.violations)")
            #expect(invariants.soldUnits == 121)
            // A retry of a request made on the source, now answered by the target from its record.
            let replay = try await coordinator.purchaseReceipt(item, user: "a0", requestID: "m-a-0")
            #expect(replay.replayed)
            #expect(invariants.purchases == 121)
        }
    }
}
