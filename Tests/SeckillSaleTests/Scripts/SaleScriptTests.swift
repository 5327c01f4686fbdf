import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

/// The bugs found in popular flash-sale Lua scripts, each proven absent on a real server.
@Suite("Sale scripts", .timeLimit(.minutes(1)))
struct SaleScriptTests {
    @Test("buying the last unit sells exactly the total, never total + 1")
    func lastUnitSellsTotalExactly() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 3)
        var results: [PurchaseResult] = []
        for user in 0..<5 {
            results.append(try await cluster.coordinator.purchase(item, user: "u\(user)"))
        }
        #expect(results.map(\.kind) == ["purchased", "purchased", "purchased", "soldOut", "soldOut"])
        if case .purchased(_, let remaining) = results[2] { #expect(remaining == 0) } else { Issue.record("third buy: \(results[2])") }
        #expect(results[3] == .soldOut(remaining: 0))
        #expect(try await cluster.meta(item, "sold") == 3)
        #expect(try await cluster.orders(item).count == 3)
    }

    @Test("a purchase reads the buyer's holding (a second HGET after its record's) only when the item has a per-user limit")
    func holdingReadOnlyWithALimit() async throws {
        let cluster = try await SaleCluster.start(nodes: 1)
        // Calls the scripts made, from the server's own counters (scripts' calls included).
        func calls(_ command: String, _ item: String) async throws -> Int {
            let meta = ItemKeys(item: item).meta
            let text = try await cluster.redis("INFO", "commandstats", key: meta).string ?? ""
            guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }),
                let field = line.split(separator: ",").first(where: { $0.contains("calls=") })
            else { return 0 }
            return Int(field.split(separator: "=").last ?? "") ?? -1
        }
        let free = cluster.item("free")
        _ = try await cluster.coordinator.publish(free, stock: 10)
        _ = try await cluster.redis("CONFIG", "RESETSTAT", key: ItemKeys(item: free).meta)
        for user in 0..<3 { _ = try await cluster.coordinator.purchase(free, user: "u\(user)") }
        // One HGET per purchase: the request record.
        #expect(try await calls("hget", free) == 3)
        #expect(try await calls("hincrby", free) == 6)

        let limited = cluster.item("limited")
        _ = try await cluster.coordinator.publish(limited, stock: 10, limitPerUser: 2)
        _ = try await cluster.redis("CONFIG", "RESETSTAT", key: ItemKeys(item: limited).meta)
        let results = [
            try await cluster.coordinator.purchase(limited, user: "u"), try await cluster.coordinator.purchase(limited, user: "u"),
            try await cluster.coordinator.purchase(limited, user: "u"),
        ]
        #expect(results.map(\.kind) == ["purchased", "purchased", "limitReached"])
        #expect(results[2] == .limitReached(held: 2))
        #expect(try await calls("hget", limited) == 6)
    }

    @Test("a quantity equal to what remains is sold; one more than remains is refused with what remains")
    func quantityAtTheEdge() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5)
        #expect(try await cluster.coordinator.purchase(item, user: "a", quantity: 6) == .soldOut(remaining: 5))
        let bought = try await cluster.coordinator.purchase(item, user: "a", quantity: 5)
        guard case .purchased(_, 0) = bought else {
            Issue.record("\(bought)")
            return
        }
        #expect(try await cluster.meta(item, "sold") == 5)
    }

    @Test("one unit among 50 concurrent buyers goes to exactly one of them")
    func oneUnitManyBuyers() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1)
        let coordinator = cluster.coordinator
        let kinds = try await withThrowingTaskGroup(of: String.self) { group in
            for user in 0..<50 { group.addTask { try await coordinator.purchase(item, user: "u\(user)").kind } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(kinds.filter { $0 == "purchased" }.count == 1)
        #expect(kinds.filter { $0 == "soldOut" }.count == 49)
        #expect(try await cluster.meta(item, "sold") == 1)
    }

    @Test("a missing item hash answers unknownItem instead of raising a Lua error, and creates no item")
    func missingItemHash() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item("never-published")
        let keys = ItemKeys(item: item)
        #expect(try await cluster.coordinator.purchase(item, user: "u", requestID: "r-1") == .unknownItem)
        #expect(try await cluster.coordinator.cancel(item, order: "1-0") == .unknownItem)
        #expect(try await cluster.coordinator.restock(item, units: 1) == .unknownItem)
        for key in keys.all { #expect(try await cluster.exists(key) == false, "\(key)") }
        // Even a hash with no `total` field (written by hand) is an unknown item, not a crash.
        try await cluster.redis("HSET", keys.meta, "sold", "0", key: keys.meta)
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .unknownItem)
    }

    @Test("a user whose units were all cancelled is not seen as a buyer (0 is true in Lua)")
    func zeroHeldIsNotABuyer() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10, limitPerUser: 1)
        guard case .purchased(let order, _) = try await cluster.coordinator.purchase(item, user: "u") else {
            Issue.record("first purchase failed")
            return
        }
        _ = try await cluster.coordinator.cancel(item, order: order)
        #expect(try await cluster.buyers(item).isEmpty)
        let again = try await cluster.coordinator.purchase(item, user: "u")
        #expect(again.kind == "purchased")
    }

    @Test("a refused purchase changes nothing: no decrement first and compensation later")
    func refusalsChangeNothing() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 4, limitPerUser: 2)
        _ = try await cluster.coordinator.purchase(item, user: "a", quantity: 2)
        let before = try await cluster.redis("HGETALL", ItemKeys(item: item).meta, key: ItemKeys(item: item).meta)
        #expect(try await cluster.coordinator.purchase(item, user: "a") == .limitReached(held: 2))
        #expect(try await cluster.coordinator.purchase(item, user: "b", quantity: 3) == .limitReached(held: 0))
        let after = try await cluster.redis("HGETALL", ItemKeys(item: item).meta, key: ItemKeys(item: item).meta)
        #expect(before == after)
        #expect(try await cluster.orders(item).count == 1)
    }

    @Test("every script declares all its keys, so it runs on a real Redis Cluster node", .timeLimit(.minutes(1)))
    func scriptsRunOnAClusterNode() async throws {
        let server = try await RedisServer.clusterEnabled()
        _ = try await offThePool { try server.cli("CLUSTER", "ADDSLOTSRANGE", "0", "16383") }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while try await !offThePool({ try server.cli("CLUSTER", "INFO") }).contains("cluster_state:ok") {
            guard clock.now < deadline else {
                Issue.record("the one-node cluster never became ready")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let config = try ClusterConfig(
            nodes: [NodeConfig(name: "cluster-node", host: "127.0.0.1", port: server.port, slots: [0...16383])],
            pool: PoolSettings(), timeouts: TimeoutSettings(), auth: nil, database: 0, source: "test"
        ).validated()
        let client = try ClusterClient(config: config, environment: [:])
        defer { client.close() }
        let coordinator = try SaleCoordinator(client: client)
        try await coordinator.prepare()
        for item in ["cluster-item", "商品-cluster", "x:y"] {
            #expect(try await coordinator.publish(item, stock: 5, limitPerUser: 2) == .published(epoch: 1))
            guard case .purchased(let order, 4) = try await coordinator.purchase(item, user: "u", requestID: "r-1") else {
                Issue.record("purchase of \(item) failed")
                continue
            }
            #expect(try await coordinator.restock(item, units: 1, requestID: "s-1") == .restocked(total: 6, remaining: 5, epoch: 2))
            guard case .cancelled = try await coordinator.cancel(item, order: order) else {
                Issue.record("cancel of \(item)")
                continue
            }
            #expect(try await coordinator.status([item]).first??.sold == 0)
            #expect(try await coordinator.publish(item, stock: 1, replace: true) == .published(epoch: 4))
        }
    }

    @Test("every script source passes every key in KEYS and builds none inside Lua")
    func noKeysBuiltInLua() {
        for script in SaleScript.allCases {
            #expect(!script.source.contains("seckill:"), "\(script) builds a key")
        }
    }
}
