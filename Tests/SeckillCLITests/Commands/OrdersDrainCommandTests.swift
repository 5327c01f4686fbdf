import Foundation
import SeckillOrders
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

@Suite("seckill orders drain and seckill audit", .timeLimit(.minutes(2)))
struct OrdersDrainCommandTests {
    /// Three servers, their cluster.json, and `items` items with `perItem` orders each.
    static func sale(items: Int, perItem: Int, directory: TemporaryDirectory) async throws -> (
        servers: [RedisServer], config: String, coordinator: SaleCoordinator, items: [String]
    ) {
        let servers = try await Task.detached { try (0..<3).map { _ in try RedisServer() } }.value
        let config = try directory.write("cluster.json", ClusterFile.threeNodes(ports: servers.map(\.port)))
        let coordinator = SaleCoordinator(
            client: try ClusterClient(config: try SaleConfig.load(path: config).cluster, environment: [:]), options: SaleOptions())
        let prefix = "drain-\(UUID().uuidString.prefix(8))"
        let names = (0..<items).map { "\(prefix)-\($0)" }
        for item in names { _ = try await coordinator.publish(item, stock: perItem + 10, limitPerUser: 0) }
        for start in stride(from: 0, to: perItem, by: 250) {
            let requests = names.flatMap { item in
                (start..<min(start + 250, perItem)).map { PurchaseRequest(item: item, user: "u\($0 % 97)") }
            }
            for result in await coordinator.purchase(requests) {
                guard case .success(.purchased) = result else { throw SetupFailure("setup purchase: \(result)") }
            }
        }
        return (servers, config, coordinator, names)
    }

    @Test("orders drain SIGKILLed mid-drain and run again: every order in the database exactly once, nothing pending, audit clean")
    func killedMidDrain() async throws {
        let directory = try TemporaryDirectory()
        let (servers, config, coordinator, items) = try await Self.sale(items: 4, perItem: 1_000, directory: directory)
        defer {
            coordinator.client.close()
            for server in servers { server.stop() }
        }
        let database = directory.file("orders.db")
        let drain = try SeckillExecutable.start(["orders", "drain", "--sqlite", database, "--follow", "--batch", "10", "--config", config])
        let reader = try await waitForDatabase(database)
        var rowsAtKill = 0
        for _ in 0..<5_000 {
            rowsAtKill = (try? reader.orders().count) ?? 0
            if rowsAtKill >= 1_000 || !drain.isRunning { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        let status = drain.kill(SIGKILL)
        #expect(status == 128 + SIGKILL, "the drain was still running when killed")
        try #require(rowsAtKill > 0, "no order reached the database before the kill")
        let rowsAfterKill = try reader.orders().count
        #expect(rowsAfterKill < 4_000, "killed before every order was handed on")

        let again = try SeckillExecutable.run(["orders", "drain", "--sqlite", database, "--json", "--config", config])
        #expect(again.status == 0, "\(again.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any], "\(again.stdout)")
        #expect(report.number("deadLettered") == 0)
        #expect((report.number("entriesRead") ?? 0) > 0)

        let rows = try reader.orders()
        #expect(rows.count == 4_000)
        print(
            "orders drain SIGKILLed with \(rowsAfterKill) of 4000 orders in the database; the rerun read \(Int(report.number("entriesRead") ?? 0)) entries, inserted \(Int(report.number("inserted") ?? 0)), unchanged \(Int(report.number("unchanged") ?? 0))"
        )
        for item in items {
            let entries = try await coordinator.client.send(
                RESPCommand("XRANGE", ItemKeys(item: item).orders, "-", "+"), key: ItemKeys(item: item).meta)
            let ids = (entries.array ?? []).compactMap { $0.array?.first?.string }
            #expect(rows.filter { $0.item == item }.map(\.order) == ids.sorted(), "\(item): one row per purchase")
            let pending = try await coordinator.client.send(
                RESPCommand("XPENDING", ItemKeys(item: item).orders, "seckill-orders"), key: ItemKeys(item: item).meta)
            #expect(pending.array?.first?.int == 0, "\(item): nothing left unacknowledged")
        }

        let audit = try SeckillExecutable.run(["audit", "--sqlite", database, "--json", "--config", config] + items)
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any], "\(audit.stdout)")
        #expect(parsed.bool("clean") == true)
    }

    @Test("audit exits 1 and names the item when the database lacks an order; drain without --sqlite is a usage error")
    func auditDriftAndUsage() async throws {
        let directory = try TemporaryDirectory()
        let (servers, config, coordinator, items) = try await Self.sale(items: 1, perItem: 5, directory: directory)
        defer {
            coordinator.client.close()
            for server in servers { server.stop() }
        }
        let usage = await CLIRun.run(["orders", "drain", "--config", config])
        #expect(usage.status == 2)
        #expect(usage.stderrLines.first?.contains("--sqlite FILE is required") == true, "\(usage.stderr)")

        let database = directory.file("orders.db")
        let drained = await CLIRun.run(["orders", "drain", "--sqlite", database, "--config", config])
        #expect(drained.status == 0, "\(drained.stderr)")
        #expect(drained.stdout.hasPrefix("read 5 entries from "), "\(drained.stdout)")
        #expect(drained.stdout.contains("5 orders inserted"), "\(drained.stdout)")

        let clean = await CLIRun.run(["audit", "--sqlite", database, "--config", config, items[0]])
        #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
        #expect(clean.stdout.contains("audit clean: 1 items"))

        // A buyer the database never saw: bought after the drain.
        guard case .purchased = try await coordinator.purchase(items[0], user: "late") else { throw SetupFailure("late purchase refused") }
        let drift = await CLIRun.run(["audit", "--sqlite", database, "--config", config, items[0]])
        #expect(drift.status == 1)
        #expect(drift.stdout.contains("drift: \(items[0]): 1 order in the orders stream but missing from the database"), "\(drift.stdout)")
        #expect(drift.stderrLines.count == 1)
        // --summary: one line of totals, the drift still named.
        let summary = await CLIRun.run(["audit", "--sqlite", database, "--config", config, "--summary", items[0]])
        #expect(summary.status == 1)
        let rows = summary.stdout.split(separator: "\n").filter { $0.hasPrefix("1 items") }
        #expect(rows.count == 1, "\(summary.stdout)")
        #expect(!summary.stdout.contains("\(items[0]) "), "no per-item line: \(summary.stdout)")
        #expect(
            summary.stdout.contains("drift: \(items[0]): 1 order in the orders stream but missing from the database"), "\(summary.stdout)")
    }

    @Test("orders drain --follow picks up an item published while it runs, and prints its totals on SIGTERM")
    func followPicksUpNewItems() async throws {
        let directory = try TemporaryDirectory()
        let (servers, config, coordinator, items) = try await Self.sale(items: 1, perItem: 3, directory: directory)
        defer {
            coordinator.client.close()
            for server in servers { server.stop() }
        }
        let database = directory.file("orders.db")
        let drain = try SeckillExecutable.start([
            "orders", "drain", "--sqlite", database, "--follow", "--discovery-interval", "100", "--json", "--config", config,
        ])
        let reader = try await waitForDatabase(database)
        try await waitFor { try reader.orders().count == 3 }

        let later = items[0] + "-later"
        _ = try await coordinator.publish(later, stock: 10, limitPerUser: 0, buckets: 2)
        guard case .purchased(let order, _) = try await coordinator.purchase(later, user: "new") else {
            throw SetupFailure("purchase of \(later) refused")
        }
        try await waitFor { try reader.orders(item: later).map(\.order) == [order] }
        #expect(drain.isRunning, "--follow keeps running")
        let status = drain.kill(SIGTERM)
        let result = try drain.wait()
        #expect(status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(report.number("inserted") == 4)
        #expect(report.number("streams") == 2, "the plain item's stream and the bucket stream that has an order")
    }

    /// Polls `condition` every 10 ms for up to 10 s.
    func waitFor(_ condition: () throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for _ in 0..<1_000 {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met within 10 s", sourceLocation: sourceLocation)
    }

    /// The database once the drain created it.
    func waitForDatabase(_ path: String) async throws -> SQLiteOrderSink {
        for _ in 0..<1_000 {
            if FileManager.default.fileExists(atPath: path), let sink = try? SQLiteOrderSink(path: path), (try? sink.orders()) != nil {
                return sink
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw SetupFailure("\(path) was not created within 10 s")
    }
}

/// A failure in a test's own setup.
private struct SetupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
