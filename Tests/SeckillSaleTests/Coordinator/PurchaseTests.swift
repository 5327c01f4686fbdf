import Foundation
import SeckillRESP
import SeckillSale
import Testing

@Suite("Purchase", .timeLimit(.minutes(2)))
struct PurchaseTests {
    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test("a purchase decrements once, records the buyer and appends an order whose id it returns")
    func purchaseRecordsEverything() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        let result = try await cluster.coordinator.purchase(item, user: "alice", quantity: 3, requestID: "req-1")
        guard case .purchased(let order, let remaining) = result else {
            Issue.record("\(result)")
            return
        }
        #expect(remaining == 7)
        #expect(try await cluster.meta(item, "sold") == 3)
        #expect(try await cluster.held(item, by: "alice") == 3)
        let orders = try await cluster.orders(item)
        #expect(orders == [StreamEntry(id: order, fields: ["type": "purchase", "user": "alice", "qty": "3", "request": "req-1"])])
    }

    @Test("the same request id returns the first answer and never buys twice")
    func sameRequestIDBuysOnce() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        let first = try await cluster.coordinator.purchase(item, user: "alice", requestID: "req-1")
        let second = try await cluster.coordinator.purchase(item, user: "alice", requestID: "req-1")
        #expect(second == first)
        #expect(try await cluster.meta(item, "sold") == 1)
        #expect(try await cluster.orders(item).count == 1)
    }

    @Test("only a purchase that bought is recorded, in the item's request hash, without a TTL")
    func recordsOnlyPurchases() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let keys = ItemKeys(item: item)
        _ = try await cluster.coordinator.publish(item, stock: 1, limitPerUser: 1)
        guard case .purchased(let order, 0) = try await cluster.coordinator.purchase(item, user: "alice", requestID: "req-1") else {
            Issue.record("the first unit was not sold")
            return
        }
        #expect(try await cluster.coordinator.purchase(item, user: "bob", requestID: "req-2") == .soldOut(remaining: 0))
        #expect(try await cluster.coordinator.purchase(item, user: "alice", requestID: "req-3") == .soldOut(remaining: 0))
        let records = try await cluster.redis("HGETALL", keys.requests, key: keys.meta).array?.compactMap(\.string) ?? []
        #expect(records == ["req-1", "P|\(order)|0"])
        #expect(try await cluster.redis("TTL", keys.requests, key: keys.meta).int == -1)
        // Nothing else under the tag: a refusal adds no key.
        let all = try await cluster.redis("KEYS", "seckill:{\(item)}*", key: keys.meta).array?.compactMap(\.string) ?? []
        #expect(Set(all) == [keys.meta, keys.buyers, keys.orders, keys.requests])
    }

    @Test("a retried refusal is evaluated afresh: refused while sold out, bought after a restock, then replayed")
    func refusalRetriedAfresh() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 0, limitPerUser: 0)
        #expect(try await cluster.coordinator.purchase(item, user: "alice", requestID: "req-1") == .soldOut(remaining: 0))
        _ = try await cluster.coordinator.restock(item, units: 1)
        let bought = try await cluster.coordinator.purchaseReceipt(item, user: "alice", requestID: "req-1")
        guard case .purchased = bought.result else {
            Issue.record("the retry did not buy: \(bought.result)")
            return
        }
        #expect(!bought.replayed)
        _ = try await cluster.coordinator.restock(item, units: 5)
        let again = try await cluster.coordinator.purchaseReceipt(item, user: "alice", requestID: "req-1")
        #expect(again.result == bought.result)
        #expect(again.replayed)
        #expect(try await cluster.meta(item, "sold") == 1)
        #expect(try await cluster.orders(item).count == 1)
    }

    @Test("limit 3: buying 2 then 2 is refused with the units held, then 1 more is sold")
    func limitAboveOne() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 100, limitPerUser: 3)
        #expect(try await cluster.coordinator.purchase(item, user: "u", quantity: 2).kind == "purchased")
        #expect(try await cluster.coordinator.purchase(item, user: "u", quantity: 2) == .limitReached(held: 2))
        guard case .purchased(_, 97) = try await cluster.coordinator.purchase(item, user: "u", quantity: 1) else {
            Issue.record("the third unit was not sold")
            return
        }
        #expect(try await cluster.coordinator.purchase(item, user: "u", quantity: 1) == .limitReached(held: 3))
        #expect(try await cluster.held(item, by: "u") == 3)
        #expect(try await cluster.coordinator.purchase(item, user: "other", quantity: 4) == .limitReached(held: 0))
    }

    @Test("no limit lets one user buy everything")
    func noLimit() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 50, limitPerUser: 0)
        for _ in 0..<5 { _ = try await cluster.coordinator.purchase(item, user: "whale", quantity: 10) }
        #expect(try await cluster.held(item, by: "whale") == 50)
        #expect(try await cluster.coordinator.purchase(item, user: "whale") == .soldOut(remaining: 0))
    }

    @Test("a quantity above what remains is refused with the remaining count")
    func quantityAboveRemaining() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        _ = try await cluster.coordinator.purchase(item, user: "a", quantity: 7)
        #expect(try await cluster.coordinator.purchase(item, user: "b", quantity: 4) == .soldOut(remaining: 3))
        #expect(try await cluster.coordinator.purchase(item, user: "b", quantity: 3).kind == "purchased")
        #expect(try await cluster.coordinator.purchase(item, user: "c") == .soldOut(remaining: 0))
    }

    @Test("a window that starts in the future answers notStarted with its start")
    func notStarted() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let start = Self.nowMs + 3_600_000
        _ = try await cluster.coordinator.publish(item, stock: 5, window: SaleWindow(startsAtMs: start))
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .notStarted(startsAtMs: start))
        #expect(try await cluster.meta(item, "sold") == 0)
    }

    @Test("a window that has ended answers ended with its end")
    func ended() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let end = Self.nowMs - 1_000
        _ = try await cluster.coordinator.publish(item, stock: 5, window: SaleWindow(startsAtMs: end - 3_600_000, endsAtMs: end))
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .ended(endsAtMs: end))
    }

    @Test("a window that is open now sells")
    func openWindowSells() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let now = Self.nowMs
        _ = try await cluster.coordinator.publish(item, stock: 5, window: SaleWindow(startsAtMs: now - 60_000, endsAtMs: now + 3_600_000))
        #expect(try await cluster.coordinator.purchase(item, user: "u").kind == "purchased")
    }

    @Test("an unknown item answers unknownItem")
    func unknownItem() async throws {
        let cluster = try await SaleCluster.start()
        #expect(try await cluster.coordinator.purchase(cluster.item("nope"), user: "u") == .unknownItem)
    }

    @Test("ids with unicode, pipes and braces in the user survive the round trip")
    func unusualIDs() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item("商品|🎁")
        let user = "{用户}|a b"
        _ = try await cluster.coordinator.publish(item, stock: 2)
        guard case .purchased(let order, 1) = try await cluster.coordinator.purchase(item, user: user, requestID: "{r}|1") else {
            Issue.record("purchase failed")
            return
        }
        #expect(try await cluster.held(item, by: user) == 1)
        #expect(try await cluster.coordinator.cancel(item, order: order).kindAndUser == ("cancelled", user))
    }

    @Test("the seeds' scenario: 10 users try 1,000 times each for 100 units with limit 1, and each gets exactly one")
    func seedsScenario() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 100, limitPerUser: 1)
        let coordinator = cluster.coordinator
        // 10 users x 10 tasks x 100 attempts, each attempt with its own request id.
        let counts = try await withThrowingTaskGroup(of: [String: Int].self) { group in
            for user in 0..<10 {
                for worker in 0..<10 {
                    group.addTask {
                        var counts: [String: Int] = [:]
                        for attempt in 0..<100 {
                            let result = try await coordinator.purchase(
                                item, user: "user-\(user)", requestID: "u\(user)-w\(worker)-a\(attempt)")
                            counts[result.kind, default: 0] += 1
                        }
                        return counts
                    }
                }
            }
            return try await group.reduce(into: [String: Int]()) { total, part in total.merge(part, uniquingKeysWith: +) }
        }
        #expect(counts == ["purchased": 10, "limitReached": 9_990])
        #expect(try await cluster.meta(item, "sold") == 10)
        let status = try #require(try await coordinator.status([item]).first ?? nil)
        #expect(status.remaining == 90)
        #expect(status.buyers == 10)
        let buyers = try await cluster.buyers(item)
        #expect(buyers == Dictionary(uniqueKeysWithValues: (0..<10).map { ("user-\($0)", 1) }))
        #expect(try await cluster.orders(item).count == 10)
        let invariants = try await InvariantChecker(client: cluster.client).check([item])
        #expect(invariants.holds, "\(invariants.violations)")
    }
}
