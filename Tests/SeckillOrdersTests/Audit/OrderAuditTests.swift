import Foundation
import SeckillRESP
import SeckillSale
import SeckillTestSupport
import Testing

@testable import SeckillOrders

@Suite("OrderAudit", .timeLimit(.minutes(1)))
struct OrderAuditTests {
    /// A plain and a bucketed item sold a little, with a cancellation each, drained into a database.
    static func drainedSale(_ cluster: OrdersCluster) async throws -> (items: [String], sink: SQLiteOrderSink) {
        let plain = cluster.item("plain")
        let hot = cluster.item("hot")
        _ = try await cluster.coordinator.publish(plain, stock: 20, limitPerUser: 3)
        _ = try await cluster.coordinator.publish(hot, stock: 30, limitPerUser: 3, buckets: 2)
        for item in [plain, hot] {
            var orders: [String] = []
            for user in 0..<5 { orders.append(try await cluster.buy(item, "u\(user)", quantity: 2)) }
            _ = try await cluster.coordinator.cancel(item, order: orders[1])
        }
        let sink = try cluster.database()
        _ = try await cluster.consumer(sink).drain()
        return ([plain, hot], sink)
    }

    @Test("after a sale drained into the database, the audit is clean and counts what it read")
    func cleanAfterSale() async throws {
        let cluster = try await OrdersCluster.start(nodes: 2)
        let (items, sink) = try await Self.drainedSale(cluster)
        let report = try await OrderAudit(client: cluster.client).audit(items, database: sink)
        #expect(report.clean, "\(report.drifts) \(report.unreadable)")
        #expect(report.items.map(\.item) == items.sorted())
        for item in report.items {
            #expect(item.sold == 8 && item.held == 8 && item.streamNet == 8)
            #expect(item.purchases == 5 && item.cancellations == 1)
            #expect(item.database?.rows == 5)
        }
        #expect(report.items.first { $0.item == items[1] }?.buckets == 2)
    }

    @Test("a row deleted from the database and a state changed there are named with the item and count")
    func databaseDrift() async throws {
        let cluster = try await OrdersCluster.start(nodes: 2)
        let (items, sink) = try await Self.drainedSale(cluster)
        let rows = try sink.orders(item: items[0])
        let database = try SQLiteDatabase(path: sink.path)
        try database.prepare("DELETE FROM orders WHERE item = ? AND order_id = ?").run([.text(items[0]), .text(rows[0].order)])
        try database.prepare("UPDATE orders SET state = 'paid' WHERE item = ? AND order_id = ?").run([
            .text(items[0]), .text(rows[2].order),
        ])
        let report = try await OrderAudit(client: cluster.client).audit([], database: sink)
        #expect(!report.clean)
        #expect(
            report.drifts.contains("\(items[0]): 1 order in the orders stream but missing from the database: \(rows[0].order)"),
            "\(report.drifts)")
        #expect(
            report.drifts.contains(
                "\(items[0]): 1 order in a different state in the database: \(rows[2].order) (database paid, stream confirmed)"),
            "\(report.drifts)")
        #expect(report.drifts.count == 2, "\(report.drifts)")
    }

    @Test("counters changed behind the scripts' back are named: sold vs buyers vs stream")
    func counterDrift() async throws {
        let cluster = try await OrdersCluster.start(nodes: 1)
        let (items, _) = try await Self.drainedSale(cluster)
        let keys = ItemKeys(item: items[0])
        try await cluster.redis("HINCRBY", keys.meta, "sold", "1", key: keys.meta)
        let report = try await OrderAudit(client: cluster.client).audit([items[0]])
        #expect(
            report.drifts == [
                "\(items[0]): sold is 9 but the buyers hold 8 units", "\(items[0]): sold is 9 but the orders stream nets 8 units",
            ])
    }

    @Test("a primary SIGKILLed without durability: after failing over to its replica, the audit names the orders Redis lost")
    func primaryKilledWithoutDurability() async throws {
        let primary = try await offThePool { try RedisServer() }
        // The replica follows the primary through a proxy, so replication can be cut at a known point.
        let link = try FaultProxy(upstreamPort: primary.port)
        defer { link.stop() }
        let replica = try await offThePool { try RedisServer(arguments: ["--replicaof", "127.0.0.1", String(link.port)]) }
        let cluster = try OrdersCluster(servers: [primary], ports: [primary.port])
        for _ in 0..<250 {
            if (try? replica.cli("INFO", "replication"))?.contains("master_link_status:up") == true { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let item = cluster.item("lost")
        _ = try await cluster.coordinator.publish(item, stock: 50)
        for user in 0..<4 { try await cluster.buy(item, "kept-\(user)") }
        let acknowledged = try await cluster.redis("WAIT", "1", "5000", key: ItemKeys(item: item).meta)
        try #require(acknowledged.int == 1, "the replica has the first purchases")

        link.stop()
        var lost: [String] = []
        for user in 0..<3 { lost.append(try await cluster.buy(item, "lost-\(user)")) }
        let sink = try cluster.database()
        let drained = try await cluster.consumer(sink).drain()
        #expect(drained.sink.inserted == 7)
        primary.stop(hard: true)
        _ = try replica.cli("REPLICAOF", "NO", "ONE")

        let promoted = try OrdersCluster(servers: [], ports: [replica.port])
        let report = try await OrderAudit(client: promoted.client).audit([item], database: sink)
        #expect(!report.clean)
        #expect(report.items.first?.sold == 4 && report.items.first?.streamNet == 4, "Redis agrees with itself after the failover")
        #expect(
            report.drifts == [
                "\(item): 3 orders in the database but not in the orders stream (lost from Redis?): \(lost.sorted().joined(separator: ", "))"
            ],
            "\(report.drifts)")
        replica.stop()
    }
}
