import SeckillRESP
import SeckillRouting
import SeckillSale
import Testing

@Suite("Batch purchase", .timeLimit(.minutes(1)))
struct BatchTests {
    @Test("a batch across three nodes answers every request in order")
    func batchAcrossNodes() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let perNode = cluster.items(perNode: 2)
        let items = Array(perNode.joined())
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 3, limitPerUser: 2) }
        try await cluster.coordinator.prepare()
        // Interleave nodes so order must be restored after grouping.
        var requests: [PurchaseRequest] = []
        for round in 0..<2 {
            for item in items.reversed() {
                requests.append(PurchaseRequest(item: item, user: "u", quantity: 1, requestID: "r\(round)-\(item)"))
            }
        }
        for item in items { requests.append(PurchaseRequest(item: item, user: "v", quantity: 2)) }
        let results = await cluster.coordinator.purchase(requests)
        #expect(results.count == requests.count)
        for (request, result) in zip(requests, results) {
            let value = try result.get()
            if request.user == "u" {
                #expect(value.kind == "purchased", "\(request.item)")
            } else {
                #expect(value == .soldOut(remaining: 1), "\(request.item)")
            }
        }
        for item in items {
            #expect(try await cluster.meta(item, "sold") == 2)
            #expect(try await cluster.held(item, by: "u") == 2)
        }
    }

    @Test("a batch gives each request its own answer: limits, sold out, unknown items and windows")
    func mixedAnswers() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let limited = cluster.item("limited")
        let scarce = cluster.item("scarce")
        let later = cluster.item("later")
        _ = try await cluster.coordinator.publish(limited, stock: 10, limitPerUser: 1)
        _ = try await cluster.coordinator.publish(scarce, stock: 1)
        _ = try await cluster.coordinator.publish(later, stock: 1, window: SaleWindow(startsAtMs: 4_000_000_000_000))
        try await cluster.coordinator.prepare()
        let results = try await cluster.coordinator.purchase([
            PurchaseRequest(item: limited, user: "a"),
            PurchaseRequest(item: limited, user: "a"),
            PurchaseRequest(item: scarce, user: "a"),
            PurchaseRequest(item: scarce, user: "b"),
            PurchaseRequest(item: later, user: "a"),
            PurchaseRequest(item: cluster.item("missing"), user: "a"),
        ]).map { try $0.get() }
        #expect(results.map(\.kind) == ["purchased", "limitReached", "purchased", "soldOut", "notStarted", "unknownItem"])
        #expect(results[1] == .limitReached(held: 1))
        #expect(results[4] == .notStarted(startsAtMs: 4_000_000_000_000))
    }

    @Test("invalid entries fail with invalid input while the others are bought")
    func invalidEntries() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        let results = await cluster.coordinator.purchase([
            PurchaseRequest(item: item, user: "a"),
            PurchaseRequest(item: "bad{item}", user: "a"),
            PurchaseRequest(item: item, user: ""),
            PurchaseRequest(item: item, user: "b", quantity: 0),
            PurchaseRequest(item: item, user: "c", requestID: "has space"),
            PurchaseRequest(item: item, user: "d"),
        ])
        #expect((try? results[0].get())?.kind == "purchased")
        #expect((try? results[5].get())?.kind == "purchased")
        for index in 1...4 {
            guard case .failure(let error) = results[index] else {
                Issue.record("entry \(index) was accepted")
                continue
            }
            #expect(error.code == .invalidInput, "entry \(index): \(error)")
        }
        #expect(try await cluster.meta(item, "sold") == 2)
    }

    @Test("a request id repeated inside one batch buys once and both entries get the same answer")
    func repeatedRequestIDInBatch() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        try await cluster.coordinator.prepare()
        _ = try await cluster.coordinator.purchase(item, user: "warm-up")
        let results = await cluster.coordinator.purchase([
            PurchaseRequest(item: item, user: "a", requestID: "same"),
            PurchaseRequest(item: item, user: "a", requestID: "same"),
        ])
        let first = try results[0].get()
        #expect(first.kind == "purchased")
        #expect(try results[1].get() == first)
        #expect(try await cluster.meta(item, "sold") == 2)
    }

    @Test("entries answered NOSCRIPT in the pipeline are settled one by one after a reload")
    func noscriptInsideBatch() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        let items = Array(cluster.items(perNode: 3).joined())
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 5) }
        try await cluster.coordinator.prepare()
        _ = try await cluster.coordinator.purchase(items[0], user: "warm-up")
        try await cluster.cli(node: 1, "SCRIPT", "FLUSH")
        let results = await cluster.coordinator.purchase(items.map { PurchaseRequest(item: $0, user: "u", quantity: 2) })
        #expect(results.allSatisfy { (try? $0.get())?.kind == "purchased" })
        for item in items {
            let expected = item == items[0] ? 3 : 2
            #expect(try await cluster.meta(item, "sold") == expected)
        }
        #expect(try await cluster.noscriptErrors(onNodeOf: ItemKeys(item: items[3]).meta) >= 1)
    }

    @Test("a batch sent before any script is known still buys through the single path")
    func coldBatch() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        let items = Array(cluster.items(perNode: 2).joined())
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 1) }
        let fresh = try SaleCoordinator(client: cluster.client)
        let results = await fresh.purchase(items.map { PurchaseRequest(item: $0, user: "u") })
        #expect(results.allSatisfy { (try? $0.get())?.kind == "purchased" })
    }

    @Test("a batch larger than a node's in-flight limit answers every request, each bought once")
    func batchAboveInFlightLimit() async throws {
        let cluster = try await SaleCluster.start(pool: PoolSettings(maxInFlightPerNode: 32))
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 150)
        try await cluster.coordinator.prepare()
        _ = try await cluster.coordinator.purchase(item, user: "warm-up")
        let requests = (0..<200).map { PurchaseRequest(item: item, user: "u\($0)", requestID: "big-\($0)") }
        let results = await cluster.coordinator.purchase(requests)
        let kinds = results.map { (try? $0.get())?.kind ?? "error" }
        #expect(kinds.filter { $0 == "purchased" }.count == 149)
        #expect(kinds.filter { $0 == "soldOut" }.count == 51)
        #expect(try await cluster.meta(item, "sold") == 150)
    }

    @Test("an empty batch answers nothing")
    func emptyBatch() async throws {
        let cluster = try await SaleCluster.start()
        #expect(await cluster.coordinator.purchase([PurchaseRequest]()).isEmpty)
    }
}

@Suite("Batch purchase: the single path", .timeLimit(.minutes(1)))
struct BatchSinglePathTests {
    @Test("a batch sheds sold-out items like single purchases: requests without an id are answered in process")
    func batchSheds() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 0)
        let receipts = await cluster.coordinator.purchaseReceipts((0..<20).map { PurchaseRequest(item: item, user: "u\($0)") })
        let values = try receipts.map { try $0.get() }
        #expect(values.allSatisfy { $0.result == .soldOut(remaining: 0) })
        #expect(values.filter(\.shed).count == 19)
        #expect(cluster.coordinator.shedAnswers == 19)
        // With request ids nothing is shed.
        let explicit = await cluster.coordinator.purchaseReceipts(
            (0..<5).map { PurchaseRequest(item: item, user: "u\($0)", requestID: "x-\($0)") })
        #expect(try explicit.map { try $0.get() }.allSatisfy { !$0.shed })
    }

    @Test("a batch replays a request id like a single purchase, and reports invalid input per request")
    func batchReplaysAndRefuses() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5)
        let first = try await cluster.coordinator.purchaseReceipt(item, user: "u", requestID: "r-1")
        let receipts = await cluster.coordinator.purchaseReceipts([
            PurchaseRequest(item: item, user: "u", requestID: "r-1"),
            PurchaseRequest(item: item, user: "", requestID: "r-2"),
            PurchaseRequest(item: item, user: "v", requestID: "r-3"),
        ])
        let replay = try receipts[0].get()
        #expect(replay.result == first.result)
        #expect(replay.replayed)
        #expect(throws: SaleError.self) { try receipts[1].get() }
        #expect((try? receipts[1].get()) == nil)
        if case .failure(let error) = receipts[1] { #expect(error.code == .invalidInput) }
        #expect(try receipts[2].get().result.kind == "purchased")
        #expect(try await cluster.meta(item, "sold") == 2)
    }
}
