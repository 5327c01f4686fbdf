import Foundation
import SeckillOrders
import SeckillRESP
import SeckillSale
import SeckillTestSupport
import Testing

@Suite("OrderConsumer", .timeLimit(.minutes(1)))
struct OrderConsumerTests {
    @Test("a drain hands every order of plain and bucketed items on once, acknowledges them, and a second drain reads nothing")
    func drainsEverything() async throws {
        let cluster = try await OrdersCluster.start(nodes: 2)
        let plain = cluster.item("plain")
        let hot = cluster.item("hot")
        _ = try await cluster.coordinator.publish(plain, stock: 50, limitPerUser: 5)
        _ = try await cluster.coordinator.publish(hot, stock: 60, limitPerUser: 5, buckets: 3)
        var orders: [String: [String]] = [plain: [], hot: []]
        for user in 0..<12 {
            orders[plain]!.append(try await cluster.buy(plain, "u\(user)", quantity: 2))
            orders[hot]!.append(try await cluster.buy(hot, "u\(user)"))
        }
        let cancelled = orders[hot]![3]
        _ = try await cluster.coordinator.cancel(hot, order: cancelled)
        _ = try await cluster.coordinator.cancel(plain, order: orders[plain]![0])

        let sink = try cluster.database()
        let consumer = try cluster.consumer(sink)
        let report = try await consumer.drain()
        #expect(report.entriesRead == 26)
        #expect(report.sink.inserted == 24 && report.sink.updated == 2)
        #expect(report.acknowledged == 26)
        #expect(report.streams >= 4, "one plain stream and three bucket streams")
        let rows = try sink.orders()
        #expect(Set(rows.filter { $0.item == plain }.map(\.order)) == Set(orders[plain]!))
        #expect(Set(rows.filter { $0.item == hot }.map(\.order)) == Set(orders[hot]!))
        #expect(rows.first { $0.item == hot && $0.order == cancelled }?.state == .cancelled)
        #expect(rows.filter { $0.state == .confirmed }.count == 22)
        #expect(rows.filter { $0.item == plain }.allSatisfy { $0.quantity == 2 })

        let again = try await consumer.drainOnce()
        #expect(again.entriesRead == 0)
        let pending = try await cluster.redis("XPENDING", ItemKeys(item: plain).orders, "seckill-orders", key: ItemKeys(item: plain).orders)
        #expect(pending.array?.first?.int == 0)
    }

    @Test("paid and release entries (with the purchase's due) move orders to paid and released")
    func paymentEntries() async throws {
        let cluster = try await OrdersCluster.start(nodes: 1)
        let item = cluster.item("pay")
        let key = ItemKeys(item: item).orders
        let first = try await cluster.redis(
            "XADD", key, "*", "type", "purchase", "user", "a", "qty", "1", "request", "r1", "due", "9999999999999", key: key
        ).string!
        let second = try await cluster.redis(
            "XADD", key, "*", "type", "purchase", "user", "b", "qty", "2", "request", "r2", "due", "9999999999999", key: key
        ).string!
        let third = try await cluster.redis(
            "XADD", key, "*", "type", "purchase", "user", "c", "qty", "1", "request", "r3", "due", "9999999999999", key: key
        ).string!
        try await cluster.redis("XADD", key, "*", "type", "paid", "order", first, "user", "a", "qty", "1", key: key)
        try await cluster.redis("XADD", key, "*", "type", "release", "order", second, "user", "b", "qty", "2", key: key)
        let sink = try cluster.database()
        _ = try await cluster.consumer(sink).drain()
        let states = Dictionary(uniqueKeysWithValues: try sink.orders(item: item).map { ($0.order, $0) })
        #expect(states[first]?.state == .paid)
        #expect(states[second]?.state == .released)
        #expect(states[third]?.state == .unpaid)
        #expect(states[third]?.payBy == 9_999_999_999_999)
    }

    @Test("a poison entry blocks its stream until it was delivered N times, then goes to the dead-letter stream with the reason")
    func poisonEntry() async throws {
        let cluster = try await OrdersCluster.start(nodes: 1)
        let item = cluster.item("poison")
        _ = try await cluster.coordinator.publish(item, stock: 10)
        let before = try await cluster.buy(item, "a")
        let keys = ItemKeys(item: item)
        let poison = try await cluster.redis("XADD", keys.orders, "*", "type", "purchase", "user", "x", "qty", "many", key: keys.orders)
            .string!
        let after = try await cluster.buy(item, "b")
        let sink = try cluster.database()
        let consumer = try cluster.consumer(sink) { $0.maxDeliveries = 3 }

        let first = try await consumer.drainOnce()
        #expect(first.sink.inserted == 1, "the entry before the poison is handed on")
        #expect(first.deadLettered == 0)
        #expect(try sink.orders().map(\.order) == [before], "nothing after the poison is handed on before it")
        let second = try await consumer.drainOnce()
        #expect(second.deadLettered == 0)
        let third = try await consumer.drainOnce()
        #expect(third.deadLettered == 1, "dead-lettered on its third delivery")
        #expect(third.sink.inserted == 1)
        #expect(try sink.orders().map(\.order) == [before, after])

        let dead = try await cluster.redis("XRANGE", keys.orders + ":dead", "-", "+", key: keys.orders).array ?? []
        try #require(dead.count == 1)
        let flat = dead[0].array?[1].array?.compactMap(\.string) ?? []
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[index]] = flat[index + 1] }
        #expect(fields["entry"] == poison)
        #expect(fields["stream"] == keys.orders)
        #expect(fields["deliveries"] == "3")
        #expect(fields["reason"]?.contains("qty \"many\"") == true, "\(fields)")
        let pending = try await cluster.redis("XPENDING", keys.orders, "seckill-orders", key: keys.orders)
        #expect(pending.array?.first?.int == 0)
    }

    @Test("an event the sink rejects for good holds its stream back, then is dead-lettered with the sink's reason; other streams go on")
    func sinkRejection() async throws {
        let cluster = try await OrdersCluster.start(nodes: 1)
        let item = cluster.item("rejected")
        let other = cluster.item("other")
        _ = try await cluster.coordinator.publish(item, stock: 10)
        _ = try await cluster.coordinator.publish(other, stock: 10)
        let first = try await cluster.buy(item, "a")
        let refused = try await cluster.buy(item, "refused")
        let last = try await cluster.buy(item, "b")
        let elsewhere = try await cluster.buy(other, "c")
        let sink = try cluster.database()
        let consumer = try cluster.consumer(RejectingSink(inner: sink)) { $0.maxDeliveries = 2 }

        let pass = try await consumer.drainOnce()
        #expect(pass.deadLettered == 0)
        #expect(Set(try sink.orders().map(\.order)) == [first, elsewhere], "nothing after the rejected entry of its stream")
        let second = try await consumer.drainOnce()
        #expect(second.deadLettered == 1)
        _ = try await consumer.drain()
        #expect(try sink.orders(item: item).map(\.order) == [first, last])
        let keys = ItemKeys(item: item)
        let dead = try await cluster.redis("XRANGE", keys.orders + ":dead", "-", "+", key: keys.orders).array ?? []
        let fields = dead.first?.array?[1].array?.compactMap(\.string) ?? []
        #expect(fields.contains(refused))
        #expect(fields.contains("rejected by the sink: user refused is blocked"), "\(fields)")
    }

    @Test("entries the sink committed but the consumer never acknowledged (a crash between the two) come again and change nothing")
    func committedNotAcknowledged() async throws {
        let cluster = try await OrdersCluster.start(nodes: 2)
        let items = [cluster.item("x"), cluster.item("y")]
        var orders: Set<String> = []
        for item in items {
            _ = try await cluster.coordinator.publish(item, stock: 10, limitPerUser: 0)
            for user in 0..<5 { orders.insert(try await cluster.buy(item, "u\(user)")) }
        }
        let sink = try cluster.database()
        let crashing = try cluster.consumer(CommitThenFailSink(inner: sink))
        await #expect(throws: OrderError.self) { _ = try await crashing.drainOnce() }
        #expect(try sink.orders().count == 10, "committed")
        let pending = try await cluster.redis(
            "XPENDING", ItemKeys(item: items[0]).orders, "seckill-orders", key: ItemKeys(item: items[0]).orders)
        #expect(pending.array?.first?.int == 5, "never acknowledged")

        let restarted = try cluster.consumer(sink)
        let report = try await restarted.drain()
        #expect(report.entriesRead == 10)
        #expect(report.sink == OrderSinkResult(inserted: 0, updated: 0, unchanged: 10))
        #expect(Set(try sink.orders().map(\.order)) == orders)
        #expect(try sink.orders().count == 10)
        for item in items {
            let left = try await cluster.redis("XPENDING", ItemKeys(item: item).orders, "seckill-orders", key: ItemKeys(item: item).orders)
            #expect(left.array?.first?.int == 0)
        }
    }

    @Test("entries a dead consumer read and never acknowledged are taken over with XAUTOCLAIM after the claim timeout")
    func claimsDeadConsumersEntries() async throws {
        let cluster = try await OrdersCluster.start(nodes: 1)
        let item = cluster.item("claim")
        _ = try await cluster.coordinator.publish(item, stock: 10)
        var orders: [String] = []
        for user in 0..<4 { orders.append(try await cluster.buy(item, "u\(user)")) }
        let key = ItemKeys(item: item).orders
        try await cluster.redis("XGROUP", "CREATE", key, "seckill-orders", "0", key: key)
        // A consumer that reads and dies.
        let read = try await cluster.redis("XREADGROUP", "GROUP", "seckill-orders", "dead", "COUNT", "10", "STREAMS", key, ">", key: key)
        #expect(read.array?.first?.array?[1].array?.count == 4)

        let sink = try cluster.database()
        let patient = try cluster.consumer(sink) {
            $0.consumer = "alive"
            $0.claimTimeout = .seconds(60)
        }
        let skipped = try await patient.drainOnce()
        #expect(skipped.entriesRead == 0 && skipped.busyStreams == 1, "another consumer's entries are not taken before the timeout")
        #expect(try sink.orders().isEmpty)

        let taker = try cluster.consumer(sink) {
            $0.consumer = "alive"
            $0.claimTimeout = .milliseconds(1)
        }
        try await Task.sleep(for: .milliseconds(20))
        let report = try await taker.drain()
        #expect(report.claimed == 4)
        #expect(try sink.orders().map(\.order) == orders)
        let owners = try await cluster.redis("XPENDING", key, "seckill-orders", key: key)
        #expect(owners.array?.first?.int == 0)
    }

    @Test("an item published while run() goes on is picked up without a restart")
    func picksUpNewItems() async throws {
        let cluster = try await OrdersCluster.start(nodes: 2)
        let first = cluster.item("first")
        _ = try await cluster.coordinator.publish(first, stock: 10)
        try await cluster.buy(first, "a")
        let sink = try cluster.database()
        let consumer = try cluster.consumer(sink) { $0.discoveryInterval = .milliseconds(50) }
        let task = Task { await consumer.run() }
        defer { task.cancel() }
        try await waitFor { try sink.orders().count == 1 }

        let later = cluster.item("later")
        _ = try await cluster.coordinator.publish(later, stock: 10, limitPerUser: 0, buckets: 2)
        let order = try await cluster.buy(later, "b")
        try await waitFor { try sink.orders(item: later).map(\.order) == [order] }
        task.cancel()
        await task.value
    }

    @Test("a pass cut short by cancellation reports what it did and no failure; the database keeps each order once")
    func cancelledMidPass() async throws {
        let cluster = try await OrdersCluster.start(nodes: 1)
        let item = cluster.item("stop")
        _ = try await cluster.coordinator.publish(item, stock: 10)
        let order = try await cluster.buy(item, "a")
        let sink = CancelWaitingSink(inner: try cluster.database())
        let consumer = try cluster.consumer(sink)
        let reports = Locked<[DrainReport]>([])
        let task = Task { await consumer.run { report in reports.withLock { $0.append(report) } } }
        try await waitFor { sink.entered.value }
        task.cancel()
        await task.value

        let seen = reports.withLock { $0 }
        #expect(seen.count == 1)
        #expect(seen.first?.sink.inserted == 1)
        #expect(seen.first?.failures == [], "the acknowledgement cut short is not a stream failure")
        // The acknowledgement's outcome is unknown (it may have been written before the
        // cancellation reached it): the next drain reads the entry again or not, and the
        // database keeps its one row either way.
        let again = try await cluster.consumer(sink.inner).drain()
        #expect(again.entriesRead <= 1)
        #expect(again.sink.inserted == 0 && again.sink.unchanged == again.entriesRead)
        #expect(try sink.inner.orders().map(\.order) == [order])
    }

    /// Polls `condition` every 20 ms for up to 10 s.
    func waitFor(_ condition: () throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for _ in 0..<500 {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("condition not met within 10 s", sourceLocation: sourceLocation)
    }
}

/// Refuses every event of user `refused`; hands the rest to a SQLite sink.
struct RejectingSink: OrderSink {
    let inner: SQLiteOrderSink

    func commit(_ events: [OrderEvent]) async throws -> OrderSinkResult {
        if let bad = events.first(where: { $0.user == "refused" }) { throw OrderRejected(bad, reason: "user refused is blocked") }
        return try await inner.commit(events)
    }
}

/// Commits, then fails as a process killed before its acknowledgements would.
struct CommitThenFailSink: OrderSink {
    let inner: SQLiteOrderSink

    struct Crash: Error {}

    func commit(_ events: [OrderEvent]) async throws -> OrderSinkResult {
        _ = try await inner.commit(events)
        throw Crash()
    }
}

/// Commits, then holds the pass until its task is cancelled (a SIGTERM in the middle of a
/// pass): the acknowledgements after it run in a cancelled task.
struct CancelWaitingSink: OrderSink {
    let inner: SQLiteOrderSink
    let entered = Locked(false)

    func commit(_ events: [OrderEvent]) async throws -> OrderSinkResult {
        let result = try await inner.commit(events)
        entered.withLock { $0 = true }
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
        return result
    }
}
