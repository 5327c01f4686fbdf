import SeckillRESP
import SeckillRouting
import SeckillSale
import Testing

/// Sold-out shedding: answered in process only while Redis recently said "sold out", never
/// for an item with stock beyond the recheck interval, never for explicit request ids.
@Suite("Sold-out shedding")
struct SheddingTests {
    static let recheck = Duration.milliseconds(60)

    static func start() async throws -> SaleCluster {
        try await SaleCluster.start(options: SaleOptions(soldOutRecheck: recheck))
    }

    @Test("after Redis says sold out, later attempts are answered in process and cost no round trip")
    func shedsAfterSoldOut() async throws {
        // An interval no run can outlast: the count below does not depend on the machine's speed.
        let cluster = try await SaleCluster.start(options: SaleOptions(soldOutRecheck: .seconds(600)))
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1, limitPerUser: 0)
        guard case .purchased = try await cluster.coordinator.purchase(item, user: "a") else {
            Issue.record("first purchase")
            return
        }
        #expect(try await cluster.coordinator.purchase(item, user: "b") == .soldOut(remaining: 0))
        let before = cluster.coordinator.shedAnswers
        let records = try await cluster.redis("DBSIZE", key: ItemKeys(item: item).meta).int ?? -1
        for user in 0..<50 {
            #expect(try await cluster.coordinator.purchase(item, user: "u\(user)") == .soldOut(remaining: 0))
        }
        #expect(cluster.coordinator.shedAnswers - before == 50)
        // Shed answers write nothing: no request records were added for them.
        #expect(try await cluster.redis("DBSIZE", key: ItemKeys(item: item).meta).int ?? -2 <= records + 1)
        #expect(try await cluster.meta(item, "sold") == 1)
    }

    @Test("a restock through the same coordinator ends the shedding at once")
    func restockHereIsSeenAtOnce() async throws {
        let cluster = try await Self.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 0, limitPerUser: 0)
        #expect(try await cluster.coordinator.purchase(item, user: "a") == .soldOut(remaining: 0))
        _ = try await cluster.coordinator.restock(item, units: 2)
        guard case .purchased = try await cluster.coordinator.purchase(item, user: "b") else {
            Issue.record("restocked item answered from the sold-out cache")
            return
        }
    }

    @Test("a restock made elsewhere is seen once the recheck interval has passed")
    func restockElsewhereIsSeenAfterTheInterval() async throws {
        let cluster = try await Self.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 0, limitPerUser: 0)
        #expect(try await cluster.coordinator.purchase(item, user: "a") == .soldOut(remaining: 0))
        // Another process restocks: straight to Redis, this coordinator is not told.
        try await cluster.redis("HINCRBY", ItemKeys(item: item).meta, "total", "3", key: ItemKeys(item: item).meta)
        try await Task.sleep(for: Self.recheck + .milliseconds(20))
        // The first attempt after the interval is the probe and goes to Redis.
        guard case .purchased(_, let remaining) = try await cluster.coordinator.purchase(item, user: "b") else {
            Issue.record("item with stock still answered sold out after the recheck interval")
            return
        }
        #expect(remaining == 2)
    }

    @Test("purchases with a caller's request id always go to Redis, and a refusal records nothing")
    func explicitRequestIDsAreNeverShed() async throws {
        let cluster = try await Self.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 0, limitPerUser: 0)
        #expect(try await cluster.coordinator.purchase(item, user: "a") == .soldOut(remaining: 0))
        let before = cluster.coordinator.shedAnswers
        #expect(try await cluster.coordinator.purchase(item, user: "b", requestID: "explicit-1") == .soldOut(remaining: 0))
        #expect(cluster.coordinator.shedAnswers == before)
        #expect(try await cluster.redis("EXISTS", ItemKeys(item: item).requests, key: ItemKeys(item: item).meta).int == 0)
    }

    @Test("with shedding off every attempt goes to Redis")
    func off() async throws {
        let cluster = try await SaleCluster.start(options: SaleOptions(soldOutRecheck: nil))
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 0)
        for user in 0..<10 {
            #expect(try await cluster.coordinator.purchase(item, user: "u\(user)") == .soldOut(remaining: 0))
        }
        #expect(cluster.coordinator.shedAnswers == 0)
    }
}
