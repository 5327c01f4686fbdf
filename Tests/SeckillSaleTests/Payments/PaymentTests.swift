import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

@Suite("Payments", .timeLimit(.minutes(2)))
struct PaymentTests {
    /// Buys one unit for each of `users`, returning the order ids in order.
    static func buy(_ coordinator: SaleCoordinator, _ item: String, users: [String], quantity: Int = 1) async throws -> [String] {
        var orders: [String] = []
        for user in users {
            let result = try await coordinator.purchase(item, user: user, quantity: quantity)
            guard case .purchased(let order, _) = result else { throw TestFailure("purchase for \(user) answered \(result)") }
            orders.append(order)
        }
        return orders
    }

    /// Sweeps until `item` has no unpaid order left (deadlines a little in the future are waited for).
    static func sweepUntilSettled(_ coordinator: SaleCoordinator, _ item: String) async throws {
        for _ in 0..<200 {
            try await coordinator.sweepPayments()
            if try await coordinator.pendingOrders(item)?.isEmpty == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(item) still has unpaid orders")
    }

    @Test("a payment before the deadline pays once: a paid entry, out of the deadlines set, never released")
    func payBeforeDeadline() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10, limitPerUser: 2, payWithin: .seconds(60))
        #expect(try await cluster.meta(item, "payWithinMs") == 60_000)
        #expect(try await cluster.coordinator.paymentItems() == [item])
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let order = try #require(try await Self.buy(cluster.coordinator, item, users: ["alice"], quantity: 2).first)
        let pending = try #require(try await cluster.coordinator.pendingOrders(item))
        #expect(pending.map(\.order) == [order])
        #expect(abs(pending[0].dueMs - before - 60_000) < 5_000)
        #expect(try await cluster.orders(item)[0].fields["due"] == String(pending[0].dueMs))

        let paid = try await cluster.coordinator.pay(item, order: order)
        guard case .paid(let payment, "alice", 2) = paid else {
            Issue.record("\(paid)")
            return
        }
        #expect(try await cluster.coordinator.pay(item, order: order) == .alreadyPaid(payment: payment, user: "alice", quantity: 2))
        #expect(try await cluster.coordinator.pendingOrders(item) == [])
        #expect(
            try await cluster.orders(item).last
                == StreamEntry(id: payment, fields: ["type": "paid", "order": order, "user": "alice", "qty": "2"]))
        #expect(try await cluster.coordinator.sweepPayments().total == 0)
        #expect(try await cluster.meta(item, "sold") == 2)
        #expect(try await cluster.held(item, by: "alice") == 2)
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
        #expect(report.payments == 1)
    }

    @Test("a late payment is refused and releases the order in the same step, once; later payments and cancels say released")
    func latePayment() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5, limitPerUser: 3, payWithin: .milliseconds(150))
        let order = try #require(try await Self.buy(cluster.coordinator, item, users: ["bob"], quantity: 3).first)
        let epoch = try #require(try await cluster.meta(item, "epoch"))
        try await Task.sleep(for: .milliseconds(250))
        let late = try await cluster.coordinator.pay(item, order: order)
        guard case .late(let release, "bob", 3, let due) = late else {
            Issue.record("\(late)")
            return
        }
        #expect(due <= Int64(Date().timeIntervalSince1970 * 1000))
        #expect(try await cluster.meta(item, "sold") == 0)
        #expect(try await cluster.held(item, by: "bob") == 0)
        #expect(try await cluster.meta(item, "epoch") == epoch + 1)
        #expect(try await cluster.coordinator.pay(item, order: order) == .released(release: release, user: "bob", quantity: 3))
        #expect(try await cluster.coordinator.cancel(item, order: order) == .released(release: release, user: "bob", quantity: 3))
        #expect(try await cluster.coordinator.sweepPayments().total == 0)
        let entries = try await cluster.orders(item)
        #expect(entries.map(\.type) == ["purchase", "release"])
        #expect(entries[1] == StreamEntry(id: release, fields: ["type": "release", "order": order, "user": "bob", "qty": "3"]))
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
        #expect(report.releases == 1)
    }

    @Test("a sweep releases due orders: units back to stock and to the buyer's allowance, epoch bumped, shedding ended")
    func releaseReturnsUnits() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1, limitPerUser: 1, payWithin: .seconds(1))
        let order = try #require(try await Self.buy(cluster.coordinator, item, users: ["alice"]).first)
        #expect(try await cluster.coordinator.purchase(item, user: "bob") == .soldOut(remaining: 0))
        #expect(cluster.coordinator.shedItems == 1)
        #expect(try await cluster.held(item, by: "alice") == 1)
        // Not yet due: nothing released.
        #expect(try await cluster.coordinator.sweepPayments().total == 0)
        let epoch = try #require(try await cluster.meta(item, "epoch"))
        try await Task.sleep(for: .milliseconds(1100))
        let sweep = try await cluster.coordinator.sweepPayments()
        #expect(sweep.released == [item: 1])
        #expect(cluster.coordinator.shedItems == 0)
        #expect(try await cluster.meta(item, "epoch") == epoch + 1)
        #expect(try await cluster.meta(item, "sold") == 0)
        #expect(try await cluster.held(item, by: "alice") == 0)
        #expect(try await cluster.coordinator.pay(item, order: order).kind == "released")
        // The unit is on sale again, and alice's allowance is back.
        #expect(try await cluster.coordinator.purchase(item, user: "bob").kind == "purchased")
        #expect(try await cluster.coordinator.purchase(item, user: "alice", requestID: "third") == .soldOut(remaining: 0))
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
    }

    @Test("cancelling an unpaid order takes it out of the deadlines set: it is never released")
    func cancelUnpaid() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5, payWithin: .milliseconds(100))
        let orders = try await Self.buy(cluster.coordinator, item, users: ["a", "b"])
        #expect(try await cluster.coordinator.cancel(item, order: orders[0]).kindAndUser.0 == "cancelled")
        #expect(try await cluster.coordinator.pendingOrders(item)?.map(\.order) == [orders[1]])
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await cluster.coordinator.sweepPayments().released == [item: 1])
        #expect(try await cluster.coordinator.pay(item, order: orders[0]).kind == "cancelled")
        #expect(try await cluster.orders(item).map(\.type) == ["purchase", "purchase", "cancel", "release"])
        #expect(try await cluster.meta(item, "sold") == 0)
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
    }

    @Test("a retried purchase with its request id returns the same unpaid order, in the deadlines set once; a paid order may be cancelled")
    func replayAndRefund() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5, payWithin: .seconds(30))
        let first = try await cluster.coordinator.purchaseReceipt(item, user: "a", requestID: "req-1")
        let again = try await cluster.coordinator.purchaseReceipt(item, user: "a", requestID: "req-1")
        #expect(again.replayed)
        #expect(first.result == again.result)
        guard case .purchased(let order, _) = first.result else {
            Issue.record("\(first.result)")
            return
        }
        #expect(try await cluster.coordinator.pendingOrders(item)?.map(\.order) == [order])
        #expect(try await cluster.orders(item).count == 1)
        #expect(try await cluster.coordinator.pay(item, order: order).kind == "paid")
        #expect(try await cluster.coordinator.cancel(item, order: order).kindAndUser.0 == "cancelled")
        #expect(try await cluster.coordinator.pay(item, order: order).kind == "alreadyPaid")
        #expect(try await cluster.meta(item, "sold") == 0)
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
    }

    @Test("items without a deadline: pay answers noDeadline, purchases name no deadlines set, and a republish without one unregisters")
    func withoutDeadline() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5)
        let order = try #require(try await Self.buy(cluster.coordinator, item, users: ["a"]).first)
        #expect(try await cluster.coordinator.pay(item, order: order) == .noDeadline)
        #expect(try await cluster.orders(item)[0].fields["due"] == nil)
        #expect(try await cluster.exists(ItemKeys(item: item).due) == false)
        #expect(try await cluster.coordinator.pay(cluster.item("none"), order: order) == .unknownItem)
        await #expect(throws: SaleError.self) { try await cluster.coordinator.publish(item, stock: 1, payWithin: .zero) }

        _ = try await cluster.coordinator.publish(item, stock: 5, replace: true, payWithin: .seconds(30))
        #expect(try await cluster.coordinator.paymentItems() == [item])
        #expect(try await cluster.coordinator.pay(item, order: "1-0") == .unknownOrder)
        _ = try await cluster.coordinator.publish(item, stock: 5, replace: true)
        #expect(try await cluster.coordinator.paymentItems() == [])
        _ = try await cluster.coordinator.publish(item, stock: 5, replace: true, payWithin: .seconds(30))
        _ = try await cluster.coordinator.unpublish(item, force: true)
        #expect(try await cluster.coordinator.paymentItems() == [])
    }

    @Test("another coordinator's first purchase of a deadline item learns the deadline from the script and records the order as unpaid")
    func otherCoordinatorLearnsDeadline() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 5, payWithin: .seconds(30))
        let other = SaleCoordinator(client: cluster.client, options: SaleOptions())
        let orders = try await Self.buy(other, item, users: ["a", "b"])
        #expect(try await other.pendingOrders(item)?.map(\.order).sorted() == orders.sorted())
        // A fresh sweeper finds the item through the registry.
        let sweeper = SaleCoordinator(client: cluster.client, options: SaleOptions())
        let sweep = try await sweeper.sweepPayments()
        #expect(sweep.targets == 1)
        #expect(sweep.scripts == 1)
        // Its next deadline is known: a second sweep right away runs no script.
        #expect(try await sweeper.sweepPayments().scripts == 0)
    }

    @Test("a sweep runs the release script only where an order came due, not on every item")
    func sweepCostFollowsDueOrders() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        let idle = (0..<30).map { cluster.item("idle-\($0)") }
        for item in idle { _ = try await cluster.coordinator.publish(item, stock: 5, payWithin: .seconds(60)) }
        _ = try await Self.buy(cluster.coordinator, idle[0], users: ["a"])
        let busy = cluster.item("busy")
        _ = try await cluster.coordinator.publish(busy, stock: 5, payWithin: .seconds(1))
        let sweeper = SaleCoordinator(client: cluster.client, options: SaleOptions())
        let first = try await sweeper.sweepPayments()
        #expect(first.targets == 31)
        #expect(first.scripts == 31)
        #expect(try await sweeper.sweepPayments().scripts == 0)
        _ = try await Self.buy(cluster.coordinator, busy, users: ["b", "c"])
        try await Task.sleep(for: .milliseconds(1100))
        let due = try await sweeper.sweepPayments()
        #expect(due.scripts == 1)
        #expect(due.released == [busy: 2])
        #expect(try await cluster.coordinator.pendingOrders(idle[0])?.count == 1)
    }

    @Test("200 concurrent payments racing repeated sweeps: every order ends paid or released, never both, never neither")
    func paymentsRaceSweeps() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        let item = cluster.item()
        let count = 200
        _ = try await cluster.coordinator.publish(item, stock: count, limitPerUser: 1, payWithin: .milliseconds(300))
        var orders: [String] = []
        var bought: [ContinuousClock.Instant] = []
        for index in 0..<count {
            orders += try await Self.buy(cluster.coordinator, item, users: ["user-\(index)"])
            bought.append(.now)
        }
        let purchases = Array(zip(orders, bought))
        let second = SaleCoordinator(client: cluster.client, options: SaleOptions())
        let outcomes = try await withThrowingTaskGroup(of: (String, String)?.self) { group in
            // Two sweepers, each sweeping every 10 ms for a second.
            for sweeper in [cluster.coordinator, second] {
                group.addTask {
                    let end = ContinuousClock.now + .seconds(1)
                    while ContinuousClock.now < end {
                        try await sweeper.sweepPayments()
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    return nil
                }
            }
            // Each payment 60, 180, 300, 420 or 540 ms after its purchase: well before the
            // deadline, just before, on it, after.
            for (index, (order, instant)) in purchases.enumerated() {
                group.addTask {
                    try await Task.sleep(until: instant + .milliseconds(60 + 120 * (index % 5)), clock: .continuous)
                    return (order, try await cluster.coordinator.pay(item, order: order).kind)
                }
            }
            var outcomes: [String: String] = [:]
            for try await outcome in group { if let (order, kind) = outcome { outcomes[order] = kind } }
            return outcomes
        }
        try await Self.sweepUntilSettled(cluster.coordinator, item)
        let entries = try await cluster.orders(item)
        var paid = Set<String>()
        var released = Set<String>()
        for entry in entries {
            guard let order = entry.fields["order"] else { continue }
            if entry.type == "paid" { #expect(paid.insert(order).inserted, "paid twice: \(order)") }
            if entry.type == "release" { #expect(released.insert(order).inserted, "released twice: \(order)") }
        }
        #expect(paid.isDisjoint(with: released))
        #expect(paid.union(released) == Set(orders))
        for order in orders {
            let kind = outcomes[order]
            if paid.contains(order) {
                #expect(kind == "paid", "\(order): \(kind ?? "-")")
            } else {
                #expect(kind == "late" || kind == "released", "\(order): \(kind ?? "-")")
            }
        }
        #expect(try await cluster.meta(item, "sold") == paid.count)
        #expect(try await cluster.buyers(item).count == paid.count)
        #expect(!paid.isEmpty && !released.isEmpty, "paid \(paid.count), released \(released.count)")
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
        #expect(report.payments == paid.count && report.releases == released.count)
    }

    @Test("a sweeper discarded mid-way: a new one finishes the job, each order released once")
    func sweeperRestarted() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        let items = [cluster.item("a"), cluster.item("b"), cluster.item("c")]
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 500, payWithin: .milliseconds(200)) }
        // Three waves 250 ms apart, so the first sweeper has released some and not others when it is discarded.
        var orders: [String: [String]] = [:]
        var options = SaleOptions()
        options.sweepInterval = .milliseconds(10)
        let firstClient = try ClusterClient(config: cluster.client.config, environment: [:])
        let first = SaleCoordinator(client: firstClient, options: options)
        let running = Task { await first.run() }
        for wave in 0..<3 {
            for item in items {
                orders[item, default: []] += try await Self.buy(
                    cluster.coordinator, item, users: (0..<40).map { "w\(wave)-\($0)" })
            }
            if wave < 2 { try await Task.sleep(for: .milliseconds(250)) }
        }
        // The first wave is due and released by now, the last is not.
        let releasedBefore = try await items.asyncMap { try await cluster.orders($0).filter { $0.type == "release" }.count }
        running.cancel()
        await running.value
        firstClient.close()
        #expect(releasedBefore.reduce(0, +) >= 120)
        #expect(releasedBefore.reduce(0, +) < 360)

        try await Task.sleep(for: .milliseconds(250))
        let second = SaleCoordinator(client: cluster.client, options: SaleOptions())
        for item in items { try await Self.sweepUntilSettled(second, item) }
        for item in items {
            let releases = try await cluster.orders(item).filter { $0.type == "release" }.compactMap { $0.fields["order"] }
            #expect(releases.count == 120)
            #expect(Set(releases) == Set(orders[item] ?? []))
            #expect(try await cluster.meta(item, "sold") == 0)
        }
        let report = try await InvariantChecker(client: cluster.client).check(items)
        #expect(report.holds, "\(report.violations)")
    }

    @Test("a simulated sale with deadlines: the shoppers pay about half their orders, the sweeps release the rest")
    func saleWithDeadlines() async throws {
        let cluster = try await SaleCluster.start(nodes: 2)
        var config = SaleRunConfig()
        config.items = 10
        config.stock = 20
        config.users = 500
        config.requests = 400
        config.concurrency = 16
        config.prefix = cluster.item("sale")
        config.payWithin = .milliseconds(500)
        config.payShare = 0.5
        let report = try await SaleRunner(coordinator: cluster.coordinator).run(config)
        #expect(report.invariants.holds, "\(report.invariants.violations.prefix(3))")
        #expect(report.payments > 0 && report.payments < report.purchased, "\(report.payments) of \(report.purchased)")
        let items = (0..<config.items).map(config.item)
        for item in items { try await Self.sweepUntilSettled(cluster.coordinator, item) }
        let after = try await InvariantChecker(client: cluster.client).check(items)
        #expect(after.holds, "\(after.violations.prefix(3))")
        #expect(after.payments == report.payments)
        #expect(after.soldUnits == report.payments)
        #expect(after.releases == report.purchased - report.payments)
    }

    @Test("a bucketed item with a deadline: each bucket has its own deadlines set; pay routes j:ENTRY; a sweep releases per bucket")
    func bucketed() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 90, limitPerUser: 1, buckets: 3, payWithin: .milliseconds(1500))
        let layout = try #require(cluster.coordinator.cachedLayout(item))
        #expect(layout.payWithinMs == 1500)
        for index in 0..<3 {
            let keys = layout.keys(index)
            #expect(try await cluster.redis("HGET", keys.meta, "payWithinMs", key: keys.meta).int == 1500)
        }
        // A coordinator that learns the layout from the root.
        let other = SaleCoordinator(client: cluster.client, options: SaleOptions())
        let orders = try await Self.buy(other, item, users: (0..<30).map { "u\($0)" })
        #expect(Set(orders.compactMap { BucketLayout.parseOrder($0)?.bucket }) == [0, 1, 2])
        let pending = try #require(try await cluster.coordinator.pendingOrders(item))
        #expect(Set(pending.map(\.order)) == Set(orders))
        #expect(pending.map(\.dueMs) == pending.map(\.dueMs).sorted())
        let paid = Array(orders.prefix(15))
        for order in paid { #expect(try await cluster.coordinator.pay(item, order: order).kind == "paid") }
        #expect(try await cluster.coordinator.pendingOrders(item)?.count == 15)
        try await Task.sleep(for: .milliseconds(1600))
        let sweeper = SaleCoordinator(client: cluster.client, options: SaleOptions())
        let sweep = try await sweeper.sweepPayments()
        #expect(sweep.released == [item: 15])
        #expect(sweep.targets == 3)
        #expect(try await cluster.coordinator.pay(item, order: orders[20]).kind == "released")
        #expect(try await cluster.coordinator.pay(item, order: orders[0]).kind == "alreadyPaid")
        let status = try #require(try await cluster.coordinator.status([item]).first ?? nil)
        #expect(status.sold == 15)
        let report = try await InvariantChecker(client: cluster.client).check([item])
        #expect(report.holds, "\(report.violations)")
        #expect(report.payments == 15 && report.releases == 15)

        // Published again elsewhere: the cached layout's bucket is gone, the layout is read afresh.
        _ = try await other.publish(item, stock: 9, replace: true, buckets: 3, payWithin: .seconds(30))
        #expect(try await cluster.coordinator.pay(item, order: orders[1]) == .unknownOrder)
        let fresh = try #require(try await Self.buy(other, item, users: ["late-comer"]).first)
        #expect(try await cluster.coordinator.pay(item, order: fresh).kind == "paid")
    }
}

extension Array {
    /// `transform` applied to each element in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
