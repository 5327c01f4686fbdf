import SeckillRESP
import SeckillSale
import Testing

@Suite("Cancel", .timeLimit(.minutes(1)))
struct CancelTests {
    /// Publishes `item` and buys `quantity` for `user`, returning the order id.
    static func bought(_ cluster: SaleCluster, _ item: String, stock: Int = 10, limit: Int = 0, user: String = "u", quantity: Int = 1)
        async throws -> String
    {
        _ = try await cluster.coordinator.publish(item, stock: stock, limitPerUser: limit)
        let result = try await cluster.coordinator.purchase(item, user: user, quantity: quantity)
        guard case .purchased(let order, _) = result else { throw TestFailure("setup purchase answered \(result)") }
        return order
    }

    @Test("cancelling returns the units to stock, appends a cancel entry and bumps the epoch")
    func cancelReturnsStock() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let order = try await Self.bought(cluster, item, user: "alice", quantity: 3)
        #expect(try await cluster.coordinator.status([item]).first??.remaining == 7)
        let result = try await cluster.coordinator.cancel(item, order: order)
        guard case .cancelled(let cancellation, "alice", 3) = result else {
            Issue.record("\(result)")
            return
        }
        let status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.remaining == 10)
        #expect(status.sold == 0)
        #expect(status.buyers == 0)
        #expect(status.epoch == 2)
        let orders = try await cluster.orders(item)
        #expect(orders.count == 2)
        #expect(orders.last == StreamEntry(id: cancellation, fields: ["type": "cancel", "order": order, "user": "alice", "qty": "3"]))
    }

    @Test("after a cancellation the user may buy again up to the limit")
    func cancelRestoresAllowance() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let first = try await Self.bought(cluster, item, limit: 2, quantity: 1)
        _ = try await cluster.coordinator.purchase(item, user: "u")
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .limitReached(held: 2))
        _ = try await cluster.coordinator.cancel(item, order: first)
        #expect(try await cluster.held(item, by: "u") == 1)
        #expect(try await cluster.coordinator.purchase(item, user: "u").kind == "purchased")
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .limitReached(held: 2))
    }

    @Test("cancelling twice answers alreadyCancelled with the first cancellation and changes nothing more")
    func cancelTwice() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let order = try await Self.bought(cluster, item, user: "bob", quantity: 2)
        let first = try await cluster.coordinator.cancel(item, order: order)
        guard case .cancelled(let cancellation, "bob", 2) = first else {
            Issue.record("\(first)")
            return
        }
        let total = try await cluster.meta(item, "total")
        let epoch = try await cluster.meta(item, "epoch")
        let second = try await cluster.coordinator.cancel(item, order: order)
        #expect(second == .alreadyCancelled(cancellation: cancellation, user: "bob", quantity: 2))
        #expect(try await cluster.meta(item, "sold") == 0)
        #expect(try await cluster.meta(item, "total") == total)
        #expect(try await cluster.meta(item, "epoch") == epoch)
        #expect(try await cluster.orders(item).count == 2)
    }

    @Test("a user id containing the answer separator comes back whole")
    func userWithPipe() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let order = try await Self.bought(cluster, item, user: "a|b|c")
        #expect(try await cluster.coordinator.cancel(item, order: order).kindAndUser == ("cancelled", "a|b|c"))
        guard case .alreadyCancelled(_, "a|b|c", 1) = try await cluster.coordinator.cancel(item, order: order) else {
            Issue.record("second cancel")
            return
        }
    }

    @Test("an order id the item never issued answers unknownOrder and changes nothing")
    func unknownOrder() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await Self.bought(cluster, item)
        #expect(try await cluster.coordinator.cancel(item, order: "1-0") == .unknownOrder)
        #expect(try await cluster.coordinator.cancel(item, order: "18446744073709551615-0") == .unknownOrder)
        #expect(try await cluster.meta(item, "sold") == 1)
        #expect(try await cluster.orders(item).count == 1)
    }

    @Test("a cancel entry's id is not an order: cancelling it answers unknownOrder")
    func cancellingACancellation() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let order = try await Self.bought(cluster, item)
        guard case .cancelled(let cancellation, _, _) = try await cluster.coordinator.cancel(item, order: order) else {
            Issue.record("cancel failed")
            return
        }
        #expect(try await cluster.coordinator.cancel(item, order: cancellation) == .unknownOrder)
        #expect(try await cluster.meta(item, "sold") == 0)
    }

    @Test("an order of another item is unknown to this one")
    func orderOfAnotherItem() async throws {
        let cluster = try await SaleCluster.start()
        let order = try await Self.bought(cluster, cluster.item("a"))
        _ = try await cluster.coordinator.publish(cluster.item("b"), stock: 1)
        #expect(try await cluster.coordinator.cancel(cluster.item("b"), order: order) == .unknownOrder)
    }

    @Test("a malformed order id is refused as invalid input")
    func malformedOrder() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await Self.bought(cluster, item)
        let error = await #expect(throws: SaleError.self) { _ = try await cluster.coordinator.cancel(item, order: "not-an-order") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("\"not-an-order\"") == true)
    }

    @Test("cancelling on an unknown item answers unknownItem")
    func unknownItem() async throws {
        let cluster = try await SaleCluster.start()
        #expect(try await cluster.coordinator.cancel(cluster.item("nope"), order: "1-0") == .unknownItem)
    }

    @Test("concurrent cancels of one order apply it once")
    func concurrentCancels() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let order = try await Self.bought(cluster, item, quantity: 4)
        let coordinator = cluster.coordinator
        let results = try await withThrowingTaskGroup(of: CancelResult.self) { group in
            for _ in 0..<20 { group.addTask { try await coordinator.cancel(item, order: order) } }
            return try await group.reduce(into: [CancelResult]()) { $0.append($1) }
        }
        #expect(results.filter { $0.kindAndUser.0 == "cancelled" }.count == 1)
        #expect(results.filter { $0.kindAndUser.0 == "alreadyCancelled" }.count == 19)
        #expect(try await cluster.meta(item, "sold") == 0)
        #expect(try await cluster.orders(item).filter { $0.type == "cancel" }.count == 1)
    }
}
