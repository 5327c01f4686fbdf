import SeckillRESP
import SeckillSale
import Testing

@Suite("Restock", .timeLimit(.minutes(1)))
struct RestockTests {
    @Test("restocking adds units, reports total, remaining and a bumped epoch")
    func addsUnits() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        _ = try await cluster.coordinator.purchase(item, user: "a", quantity: 4)
        #expect(try await cluster.coordinator.restock(item, units: 5) == .restocked(total: 15, remaining: 11, epoch: 2))
        #expect(try await cluster.meta(item, "total") == 15)
        #expect(try await cluster.meta(item, "sold") == 4)
        #expect(try await cluster.meta(item, "epoch") == 2)
    }

    @Test("a sold-out item becomes purchasable again after a restock")
    func soldOutItemSellsAgain() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1)
        _ = try await cluster.coordinator.purchase(item, user: "a")
        #expect(try await cluster.coordinator.purchase(item, user: "b") == .soldOut(remaining: 0))
        #expect(try await cluster.coordinator.restock(item, units: 2) == .restocked(total: 3, remaining: 2, epoch: 2))
        guard case .purchased(_, 1) = try await cluster.coordinator.purchase(item, user: "b") else {
            Issue.record("b could not buy after the restock")
            return
        }
        #expect(try await cluster.meta(item, "sold") == 2)
    }

    @Test("the same restock request id twice adds the units once and answers the same")
    func sameRequestIDAddsOnce() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        let first = try await cluster.coordinator.restock(item, units: 5, requestID: "restock-1")
        let second = try await cluster.coordinator.restock(item, units: 5, requestID: "restock-1")
        #expect(first == .restocked(total: 15, remaining: 15, epoch: 2))
        #expect(second == first)
        #expect(try await cluster.meta(item, "total") == 15)
        #expect(
            try await cluster.coordinator.restock(item, units: 5, requestID: "restock-2") == .restocked(total: 20, remaining: 20, epoch: 3))
    }

    @Test("restock request ids do not collide with purchase request ids of the same text")
    func restockAndPurchaseIDsAreSeparate() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        _ = try await cluster.coordinator.purchase(item, user: "a", requestID: "same")
        #expect(try await cluster.coordinator.restock(item, units: 1, requestID: "same") == .restocked(total: 11, remaining: 10, epoch: 2))
    }

    @Test("a purchase request id shaped like a restock record never shares that record", arguments: [true, false])
    func purchaseIDsCannotReachRestockRecords(restockFirst: Bool) async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        if restockFirst {
            _ = try await cluster.coordinator.restock(item, units: 5, requestID: "s-1")
            #expect(try await cluster.coordinator.purchase(item, user: "u", requestID: "restock:s-1").kind == "purchased")
        } else {
            _ = try await cluster.coordinator.purchase(item, user: "u", requestID: "restock:s-1")
            #expect(
                try await cluster.coordinator.restock(item, units: 5, requestID: "s-1") == .restocked(total: 15, remaining: 14, epoch: 2))
        }
        #expect(try await cluster.meta(item, "total") == 15)
        #expect(try await cluster.meta(item, "sold") == 1)
    }

    @Test("restocking an unknown item answers unknownItem and creates nothing")
    func unknownItem() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item("never")
        #expect(try await cluster.coordinator.restock(item, units: 3) == .unknownItem)
        #expect(try await cluster.exists(ItemKeys(item: item).meta) == false)
    }

    @Test("restocks keep counts exact up to the largest total and refuse to go past it")
    func largeTotalsStayExactAndCapped() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: SaleInput.maxUnits - 10)
        let filled = try await cluster.coordinator.restock(item, units: 10, requestID: "fill")
        #expect(filled == .restocked(total: SaleInput.maxUnits, remaining: SaleInput.maxUnits, epoch: 2))
        await #expect {
            try await cluster.coordinator.restock(item, units: 1, requestID: "over")
        } throws: { error in
            let error = try #require(error as? SaleError)
            return error.code == .invalidInput && error.message.contains("above \(SaleInput.maxUnits)")
        }
        let status = try await cluster.coordinator.status([item])
        #expect(status.first??.total == SaleInput.maxUnits)
    }
}
