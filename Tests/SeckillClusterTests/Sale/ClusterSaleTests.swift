import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// The demand-above-supply sale on a real Redis Cluster, with nothing going wrong.
    @Suite struct ClusterSaleTests {
        @Test func demandAboveSupplySellsExactlyTheStockOnThreePrimariesWithReplicas() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start()
            let config = harness.saleConfig(items: 200, stock: 10, users: 5_000, requests: 50_000, concurrency: 200)
            let report = try await SaleRunner(coordinator: harness.coordinator()).run(config)

            #expect(report.errors == 0, "errors: \(report.errorSamples)")
            #expect(report.requests == 50_000)
            #expect(report.purchased == 2_000)
            #expect(report.invariants.holds, "\(report.invariants.violations.prefix(5))")
            #expect(report.invariants.items == 200)
            #expect(report.invariants.totalUnits == 2_000)
            #expect(report.invariants.soldUnits == 2_000)
            #expect(report.invariants.purchases == 2_000)
            #expect(report.perNode.count == 3 && report.perNode.allSatisfy { $0.requests > 0 }, "\(report.perNode)")
            // Every primary ran purchase scripts, as the servers themselves count them.
            for primary in try await harness.cluster.primaries() {
                let stats = try await harness.cluster.command(primary, "INFO", "commandstats").string ?? ""
                #expect(stats.contains("cmdstat_evalsha:calls="), "\(primary.port) ran no script")
            }
            print(
                "cluster sale: \(report.requests) attempts in \(String(format: "%.1f", report.seconds)) s (\(Int(report.throughput))/s), per node \(report.perNode.map(\.requests)), test \(elapsed(since: start))"
            )
        }
    }
}
