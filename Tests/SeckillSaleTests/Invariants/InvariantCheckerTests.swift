import SeckillRESP
import SeckillSale
import Testing

@Suite("InvariantChecker", .timeLimit(.minutes(1)))
struct InvariantCheckerTests {
    /// A cluster with `count` items sold a little, one order cancelled: a clean sale.
    static func cleanSale(items count: Int = 3) async throws -> (SaleCluster, [String]) {
        let cluster = try await SaleCluster.start(nodes: 2)
        let items = (0..<count).map { cluster.item("item-\($0)") }
        for item in items {
            _ = try await cluster.coordinator.publish(item, stock: 10, limitPerUser: 2)
            _ = try await cluster.coordinator.purchase(item, user: "a", quantity: 2)
            guard case .purchased(let order, _) = try await cluster.coordinator.purchase(item, user: "b") else {
                throw TestFailure("setup purchase failed")
            }
            _ = try await cluster.coordinator.purchase(item, user: "c")
            _ = try await cluster.coordinator.cancel(item, order: order)
        }
        return (cluster, items)
    }

    func check(_ cluster: SaleCluster, _ items: [String]) async throws -> InvariantReport {
        try await InvariantChecker(client: cluster.client).check(items)
    }

    @Test("a clean sale holds and the report counts what Redis holds")
    func cleanSaleHolds() async throws {
        let (cluster, items) = try await Self.cleanSale()
        let report = try await check(cluster, items)
        #expect(report.holds, "\(report.violations)")
        #expect(report.items == 3)
        #expect(report.totalUnits == 30)
        #expect(report.soldUnits == 9)
        #expect(report.purchases == 9)
        #expect(report.cancellations == 3)
    }

    @Test("a node that cannot be read is reported, the others are still checked, and nothing is claimed")
    func unreadableNode() async throws {
        let (cluster, _) = try await Self.cleanSale(items: 0)
        let perNode = cluster.items(perNode: 2)
        for item in perNode.flatMap({ $0 }) {
            _ = try await cluster.coordinator.publish(item, stock: 5)
            _ = try await cluster.coordinator.purchase(item, user: "a")
        }
        cluster.servers[1].stop()
        let report = try await check(cluster, perNode.flatMap { $0 })
        #expect(!report.holds)
        #expect(report.violations.isEmpty, "\(report.violations)")
        #expect(report.unreadable.count == 2, "\(report.unreadable)")
        #expect(report.items == 2)
        #expect(report.soldUnits == 2)
    }

    @Test("sold raised behind the coordinator's back is caught and names the item")
    func soldTampered() async throws {
        let (cluster, items) = try await Self.cleanSale()
        let victim = items[1]
        try await cluster.cli(owning: victim, "HINCRBY", ItemKeys(item: victim).meta, "sold", "1")
        let report = try await check(cluster, items)
        #expect(!report.holds)
        #expect(report.violations.allSatisfy { $0.hasPrefix("\(victim):") }, "\(report.violations)")
        #expect(report.violations.contains("\(victim): sold is 4 but the buyers hold 3"))
        #expect(report.violations.contains("\(victim): sold is 4 but the orders stream nets 3 units"))
    }

    @Test("a buyer above the limit is caught")
    func buyerAboveLimit() async throws {
        let (cluster, items) = try await Self.cleanSale()
        let victim = items[0]
        try await cluster.cli(owning: victim, "HSET", ItemKeys(item: victim).buyers, "a", "3")
        let report = try await check(cluster, items)
        #expect(!report.holds)
        #expect(report.violations.contains("\(victim): buyer a holds 3 units, above the limit 2"))
        #expect(report.violations.contains("\(victim): orders give a 2 units but the buyers hash says 3"))
    }

    @Test("sold above total, a buyer holding nothing, an untyped order entry and a missing item are caught")
    func otherCorruptions() async throws {
        let (cluster, items) = try await Self.cleanSale(items: 3)
        let keys = items.map { ItemKeys(item: $0) }
        try await cluster.cli(owning: items[0], "HSET", keys[0].meta, "total", "1")
        try await cluster.cli(owning: items[1], "HSET", keys[1].buyers, "ghost", "0")
        try await cluster.cli(owning: items[2], "XADD", keys[2].orders, "*", "note", "hand-written")
        let missing = cluster.item("never-published")
        let report = try await check(cluster, items + [missing])
        #expect(report.violations.contains("\(items[0]): sold 3 is outside 0...1"))
        #expect(report.violations.contains("\(items[1]): buyer ghost holds 0 units"))
        #expect(report.violations.contains { $0.hasPrefix("\(items[2]): order entry ") && $0.hasSuffix(" has no known type") })
        #expect(report.violations.contains("\(missing): item hash missing"))
    }

    @Test("an order entry whose buyer was never recorded is caught")
    func orderWithoutBuyer() async throws {
        let (cluster, items) = try await Self.cleanSale(items: 1)
        let keys = ItemKeys(item: items[0])
        try await cluster.cli(owning: items[0], "XADD", keys.orders, "*", "type", "purchase", "user", "mallory", "qty", "1", "request", "x")
        let report = try await check(cluster, items)
        #expect(report.violations.contains("\(items[0]): sold is 3 but the orders stream nets 4 units"))
        #expect(report.violations.contains("\(items[0]): orders give mallory 1 units but the buyers hash says 0"))
    }

    @Test("a long orders stream is replayed page by page")
    func longStream() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5_000)
        try await cluster.coordinator.prepare()
        for chunk in stride(from: 0, to: 2_500, by: 500) {
            let results = await cluster.coordinator.purchase(
                (chunk..<chunk + 500).map { PurchaseRequest(item: item, user: "u\($0 % 700)") })
            #expect(results.allSatisfy { (try? $0.get())?.kind == "purchased" })
        }
        let report = try await check(cluster, [item])
        #expect(report.holds, "\(report.violations)")
        #expect(report.purchases == 2_500)
        #expect(report.soldUnits == 2_500)
    }

    @Test("a buyers hash of thousands of users is read page by page (HSCAN), and one bad buyer among them is caught")
    func manyBuyersPaged() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let keys = ItemKeys(item: item)
        _ = try await cluster.coordinator.publish(item, stock: 5_000, limitPerUser: 1)
        let results = await cluster.coordinator.purchase((0..<2_500).map { PurchaseRequest(item: item, user: "user-\($0)") })
        #expect(results.allSatisfy { (try? $0.get())?.kind == "purchased" })
        let clean = try await check(cluster, [item])
        #expect(clean.holds, "\(clean.violations.prefix(3))")
        #expect(clean.soldUnits == 2_500)
        #expect(clean.purchases == 2_500)
        // One buyer given a second unit behind the coordinator's back: over the limit, and
        // the sums no longer match; found wherever it sits among the pages.
        try await cluster.redis("HINCRBY", keys.buyers, "user-1234", "1", key: keys.meta)
        let broken = try await check(cluster, [item])
        #expect(broken.violations.contains("\(item): buyer user-1234 holds 2 units, above the limit 1"))
        #expect(broken.violations.contains("\(item): sold is 2500 but the buyers hold 2501"))
        let hscans = try await cluster.redis("INFO", "commandstats", key: keys.meta).string ?? ""
        #expect(!hscans.contains("cmdstat_hgetall:"), "the checker must not read the buyers with HGETALL")
    }

    @Test("more than 64 items are checked in chunks and all counted")
    func manyItems() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        let items = (0..<150).map { cluster.item("many-\($0)") }
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 1) }
        _ = await cluster.coordinator.purchase(items.map { PurchaseRequest(item: $0, user: "u") })
        let report = try await check(cluster, items)
        #expect(report.holds)
        #expect(report.items == 150)
        #expect(report.soldUnits == 150)
    }

    @Test("an invalid item id is refused")
    func invalidItem() async throws {
        let cluster = try await SaleCluster.start()
        let error = await #expect(throws: SaleError.self) { _ = try await check(cluster, ["a{b}"]) }
        #expect(error?.code == .invalidInput)
    }
}
