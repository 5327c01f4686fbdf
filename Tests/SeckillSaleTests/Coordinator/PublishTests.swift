import SeckillRESP
import SeckillSale
import Testing

@Suite("Publish", .timeLimit(.minutes(1)))
struct PublishTests {
    @Test("publishing stores total, sold 0, the limit and the window, and starts at epoch 1")
    func publishStoresTheItem() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let window = SaleWindow(startsAtMs: 1_000, endsAtMs: 9_999_999_999_999)
        #expect(try await cluster.coordinator.publish(item, stock: 25, limitPerUser: 3, window: window) == .published(epoch: 1))
        #expect(try await cluster.meta(item, "total") == 25)
        #expect(try await cluster.meta(item, "sold") == 0)
        #expect(try await cluster.meta(item, "limit") == 3)
        #expect(try await cluster.meta(item, "start") == 1_000)
        #expect(try await cluster.meta(item, "end") == 9_999_999_999_999)
        let status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.window == window)
        #expect(status.remaining == 25)
    }

    @Test("an open window stores neither start nor end")
    func openWindow() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1)
        #expect(try await cluster.meta(item, "start") == nil)
        #expect(try await cluster.meta(item, "end") == nil)
        #expect(try await cluster.meta(item, "limit") == 0)
    }

    @Test("publishing again before any sale resets the stock and bumps the epoch")
    func republishWithoutSales() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        #expect(try await cluster.coordinator.publish(item, stock: 7, limitPerUser: 1) == .published(epoch: 2))
        #expect(try await cluster.meta(item, "total") == 7)
        #expect(try await cluster.meta(item, "limit") == 1)
    }

    @Test("publishing an item that has sales is refused with hasSales and changes nothing")
    func refusesToResetSales() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        _ = try await cluster.coordinator.purchase(item, user: "a", quantity: 2)
        let error = await #expect(throws: SaleError.self) { _ = try await cluster.coordinator.publish(item, stock: 100) }
        #expect(error?.code == .hasSales)
        #expect(error?.message.contains(item) == true)
        #expect(error?.message.contains("2 units sold, 1 order entries") == true)
        #expect(error?.message.contains("replace") == true)
        #expect(try await cluster.meta(item, "total") == 10)
        #expect(try await cluster.meta(item, "sold") == 2)
        #expect(try await cluster.held(item, by: "a") == 2)
    }

    @Test("an item whose sales were all cancelled still has history and is not reset silently")
    func cancelledSalesStillCount() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        guard case .purchased(let order, _) = try await cluster.coordinator.purchase(item, user: "a") else {
            Issue.record("purchase failed")
            return
        }
        _ = try await cluster.coordinator.cancel(item, order: order)
        #expect(try await cluster.meta(item, "sold") == 0)
        let error = await #expect(throws: SaleError.self) { _ = try await cluster.coordinator.publish(item, stock: 10) }
        #expect(error?.code == .hasSales)
    }

    @Test("replace resets an item with sales: sold, buyers, orders and cancellations start over")
    func replaceResets() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        let keys = ItemKeys(item: item)
        _ = try await cluster.coordinator.publish(item, stock: 10, limitPerUser: 1)
        guard case .purchased(let order, _) = try await cluster.coordinator.purchase(item, user: "a") else {
            Issue.record("purchase failed")
            return
        }
        _ = try await cluster.coordinator.purchase(item, user: "b")
        _ = try await cluster.coordinator.cancel(item, order: order)
        #expect(try await cluster.coordinator.publish(item, stock: 3, limitPerUser: 2, replace: true) == .published(epoch: 3))
        #expect(try await cluster.meta(item, "total") == 3)
        #expect(try await cluster.meta(item, "sold") == 0)
        #expect(try await cluster.meta(item, "limit") == 2)
        #expect(try await cluster.exists(keys.buyers) == false)
        #expect(try await cluster.exists(keys.orders) == false)
        #expect(try await cluster.exists(keys.cancels) == false)
        // The old order is gone with its stream: cancelling it now finds nothing.
        #expect(try await cluster.coordinator.cancel(item, order: order) == .unknownOrder)
        #expect(try await cluster.coordinator.purchase(item, user: "b", quantity: 2).kind == "purchased")
    }

    @Test("replace drops a window the new publish does not set")
    func replaceDropsOldWindow() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1, window: SaleWindow(startsAtMs: 4_000_000_000_000))
        _ = try await cluster.coordinator.publish(item, stock: 1)
        #expect(try await cluster.meta(item, "start") == nil)
        #expect(try await cluster.coordinator.purchase(item, user: "u").kind == "purchased")
    }

    @Test("stock 0 publishes an item that is sold out from the start")
    func zeroStock() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 0)
        #expect(try await cluster.coordinator.purchase(item, user: "u") == .soldOut(remaining: 0))
    }

    @Test("the largest stock is stored and counted exactly")
    func largestStock() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: SaleInput.maxUnits)
        let bought = try await cluster.coordinator.purchase(item, user: "u", quantity: SaleInput.maxQuantity)
        #expect(bought.kind == "purchased")
        if case .purchased(_, let remaining) = bought { #expect(remaining == SaleInput.maxUnits - SaleInput.maxQuantity) }
        #expect(try await cluster.coordinator.status([item]).first??.remaining == SaleInput.maxUnits - SaleInput.maxQuantity)
    }
}
