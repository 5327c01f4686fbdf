import SeckillRESP
import SeckillSale
import SeckillTestSupport
import Synchronization
import Testing

// Serialized: the runs are the heaviest tests of the package and share two cores with it.
@Suite("SaleRunner", .serialized, .timeLimit(.minutes(3)))
struct SaleRunnerTests {
    static func config(_ cluster: SaleCluster, _ name: String, change: (inout SaleRunConfig) -> Void) -> SaleRunConfig {
        var config = SaleRunConfig()
        config.prefix = cluster.item(name)
        change(&config)
        return config
    }

    @Test("demand far above supply on three nodes: 50,000 attempts for 2,000 units sell exactly 2,000")
    func demandFarAboveSupply() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let config = Self.config(cluster, "demand") {
            $0.items = 200
            $0.stock = 10
            $0.limit = 1
            $0.users = 5_000
            $0.requests = 50_000
            $0.concurrency = 200
            $0.seed = 42
        }
        let progressCalls = Atomic<Int>(0)
        let report = try await SaleRunner(coordinator: cluster.coordinator).run(config) { _ in
            progressCalls.add(1, ordering: .relaxed)
        }
        #expect(report.errors == 0, "\(report.errorSamples)")
        #expect(report.requests == 50_000)
        #expect(report.results.values.reduce(0, +) == 50_000)
        #expect(report.purchased == 2_000)
        #expect(report.invariants.soldUnits == 2_000)
        #expect(report.invariants.totalUnits == 2_000)
        #expect(report.invariants.purchases == 2_000)
        #expect(report.invariants.items == 200)
        #expect(report.invariants.holds, "\(report.invariants.violations.prefix(5))")
        #expect(report.itemsSoldOut == 200)
        #expect(report.perNode.count == 3)
        #expect(report.perNode.allSatisfy { $0.requests > 0 }, "\(report.perNode)")
        #expect(report.perNode.map(\.requests).reduce(0, +) == 50_000)
        #expect(report.latencyMs.p50 <= report.latencyMs.p99 && report.latencyMs.p99 <= report.latencyMs.max)
        #expect(report.throughput > 0)
        #expect(progressCalls.load(ordering: .relaxed) >= 1)
        // Redis agrees item by item, read independently of the runner.
        let statuses = try await cluster.coordinator.status((0..<config.items).map(config.item))
        #expect(statuses.allSatisfy { $0?.sold == 10 && $0?.buyers == 10 })
    }

    @Test("SCRIPT FLUSH on the nodes during a run: purchases continue without errors and nothing is oversold")
    func scriptFlushDuringRun() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let config = Self.config(cluster, "flush") {
            $0.items = 60
            $0.stock = 100
            $0.limit = 2
            $0.users = 3_000
            $0.requests = 20_000
            $0.concurrency = 100
        }
        let finished = Atomic<Bool>(false)
        let runner = SaleRunner(coordinator: cluster.coordinator)
        async let flushes: Int = {
            var count = 0
            while !finished.load(ordering: .acquiring) && count < 40 {
                try? await Task.sleep(for: .milliseconds(25))
                _ = try? await cluster.cli(node: count % 3, "SCRIPT", "FLUSH")
                count += 1
            }
            return count
        }()
        let report: SaleRunReport
        do {
            report = try await runner.run(config)
            finished.store(true, ordering: .releasing)
        } catch {
            finished.store(true, ordering: .releasing)
            _ = await flushes
            throw error
        }
        let flushCount = await flushes
        #expect(flushCount >= 3)
        var noscripts = 0
        for node in 0..<3 {
            let item = (0..<config.items).map(config.item).first { cluster.nodeIndex(of: $0) == node } ?? config.item(0)
            noscripts += try await cluster.noscriptErrors(onNodeOf: ItemKeys(item: item).meta)
        }
        #expect(noscripts > 0, "no call ever met a flushed script cache")
        #expect(report.errors == 0, "\(report.errorSamples)")
        #expect(report.requests == 20_000)
        #expect(report.invariants.holds, "\(report.invariants.violations.prefix(5))")
        #expect(report.invariants.soldUnits == report.purchased)
        #expect(report.invariants.soldUnits <= 6_000)
    }

    @Test("running the same sale twice is refused unless replace is set, which starts it over")
    func secondRunNeedsReplace() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        var config = Self.config(cluster, "twice") {
            $0.items = 5
            $0.stock = 2
            $0.users = 10
            $0.requests = 100
            $0.concurrency = 5
        }
        let runner = SaleRunner(coordinator: cluster.coordinator)
        let first = try await runner.run(config)
        #expect(first.purchased == 10)
        let error = await #expect(throws: SaleError.self) { _ = try await runner.run(config) }
        #expect(error?.code == .hasSales)
        config.replace = true
        let second = try await runner.run(config)
        #expect(second.purchased == 10)
        #expect(second.invariants.holds)
        #expect(second.invariants.purchases == 10)
    }

    @Test("a run of no attempts publishes the items and checks them")
    func noAttempts() async throws {
        let cluster = try await SaleCluster.start()
        let config = Self.config(cluster, "idle") {
            $0.items = 4
            $0.stock = 3
            $0.requests = 0
        }
        let report = try await SaleRunner(coordinator: cluster.coordinator).run(config)
        #expect(report.requests == 0)
        #expect(report.invariants.items == 4)
        #expect(report.invariants.totalUnits == 12)
        #expect(report.invariants.holds)
    }

    @Test("the final progress report counts every attempt and purchase")
    func finalProgress() async throws {
        let cluster = try await SaleCluster.start()
        let config = Self.config(cluster, "progress") {
            $0.items = 3
            $0.stock = 5
            $0.limit = 0
            $0.users = 20
            $0.requests = 300
            $0.concurrency = 10
        }
        let last = Locked<SaleProgress?>(nil)
        let report = try await SaleRunner(coordinator: cluster.coordinator).run(config) { progress in last.withLock { $0 = progress } }
        let final = try #require(last.value)
        #expect(final.done == 300)
        #expect(final.purchased == 15)
        #expect(final.errors == 0)
        #expect(final.itemsSoldOut == 3)
        #expect(report.purchased == 15)
    }

    @Test(
        "a run with no items, no users, no concurrency or a bad prefix is refused",
        arguments: [
            { (c: inout SaleRunConfig) in c.items = 0 },
            { (c: inout SaleRunConfig) in c.users = 0 },
            { (c: inout SaleRunConfig) in c.concurrency = 0 },
            { (c: inout SaleRunConfig) in c.requests = -1 },
            { (c: inout SaleRunConfig) in c.prefix = "bad{prefix}" },
        ] as [@Sendable (inout SaleRunConfig) -> Void])
    func invalidConfig(change: @Sendable (inout SaleRunConfig) -> Void) async throws {
        let cluster = try await SaleCluster.start()
        var config = SaleRunConfig()
        config.prefix = cluster.item("bad")
        change(&config)
        let error = await #expect(throws: SaleError.self) { _ = try await SaleRunner(coordinator: cluster.coordinator).run(config) }
        #expect(error?.code == .invalidInput)
    }
}
