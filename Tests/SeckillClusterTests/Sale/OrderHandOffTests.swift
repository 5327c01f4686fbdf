import Foundation
import SeckillOrders
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Synchronization
import Testing

/// What the shoppers and the consumer report while the test changes the cluster.
private final class Progress: Sendable {
    let stop = Atomic(false)
    let bought = Atomic(0)
    let failures = Mutex<[String]>([])
}

extension ClusterTests {
    /// The order hand-off in cluster mode.
    @Suite struct OrderHandOffTests {
        @Test func drainingThroughAReshardHandsEveryOrderOnOnceAndTheAuditIsClean() async throws {
            let start = ContinuousClock.now
            let harness = try await ClusterHarness.start(primaries: 3, replicas: 0)
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            let items = (0..<6).map { "\(harness.prefix)-\($0)" }
            for item in items { _ = try await coordinator.publish(item, stock: 400, limitPerUser: 0) }
            let hot = "\(harness.prefix)-hot"
            _ = try await coordinator.publish(hot, stock: 400, limitPerUser: 0, buckets: 3)

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seckill-orders-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let sink = try SQLiteOrderSink(path: directory + "/orders.db")
            var options = OrderConsumerOptions()
            options.discoveryInterval = .milliseconds(200)
            options.pollInterval = .milliseconds(20)
            options.batchSize = 50
            // A client of its own, so its redirects are the consumer's.
            let reader = try await ClusterClient.connect(config: try ClusterHarness.config(ports: cluster.ports), environment: [:])
            defer { reader.close() }
            let consumer = try OrderConsumer(client: reader, sink: sink, options: options)
            let progress = Progress()
            let draining = Task { await consumer.run { report in progress.failures.withLock { $0 += report.failures } } }

            // Shoppers buy all through the moves.
            let traffic = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var attempt = 0
                            while !progress.stop.load(ordering: .relaxed) {
                                attempt += 1
                                let item = attempt % 4 == 0 ? hot : items[(worker + attempt) % items.count]
                                if case .purchased = try? await coordinator.purchase(item, user: "w\(worker)-\(attempt)") {
                                    progress.bought.add(1, ordering: .relaxed)
                                }
                                try? await Task.sleep(for: .milliseconds(2))
                            }
                        }
                    }
                }
            }
            #expect(await harness.eventually { progress.bought.load(ordering: .relaxed) >= 200 }, "the shoppers did not start")

            // Move the slots of three plain items and of the hot item's bucket 0 to the next primary, in steps.
            let primaries = try await cluster.primaries()
            let layout = try #require(coordinator.cachedLayout(hot))
            var slots = items.prefix(3).map { Int(ClusterHarness.slot(of: $0).rawValue) }
            slots.append(Int(layout.slot(0).rawValue))
            var moved: [Int] = []
            for slot in Set(slots).sorted() {
                let source = try await cluster.primary(ofSlot: slot)
                let position = try #require(primaries.firstIndex { $0.port == source.port })
                let migration = try await cluster.beginMigration(slot: slot, from: source, to: primaries[(position + 1) % primaries.count])
                try await cluster.moveKeys(migration, batch: 2, limit: 3)
                try await Task.sleep(for: .milliseconds(150))
                try await cluster.finishMigration(migration)
                moved.append(slot)
            }
            let atMoves = progress.bought.load(ordering: .relaxed)
            let rowsAtMoves = try sink.orders().count
            _ = await harness.eventually { progress.bought.load(ordering: .relaxed) >= atMoves + 200 }
            progress.stop.store(true, ordering: .relaxed)
            await traffic.value

            // Every order of every stream reaches the database.
            var expected: [String: Set<String>] = [:]
            for item in items { expected[item] = try await harness.orderIDs(of: item) }
            var hotOrders = Set<String>()
            for index in 0..<layout.count {
                let reply = try await harness.client.execute(
                    [RESPCommand("XRANGE", layout.keys(index).orders, "-", "+")], slot: layout.slot(index), deadline: .now + .seconds(10))[
                        0]
                for id in (reply.array ?? []).compactMap({ $0.array?.first?.string }) {
                    hotOrders.insert(BucketLayout.order(bucket: index, entry: id))
                }
            }
            expected[hot] = hotOrders
            let total = expected.values.map(\.count).reduce(0, +)
            let caughtUp = await harness.eventually(timeout: .seconds(30)) { ((try? sink.orders().count) ?? 0) == total }
            draining.cancel()
            await draining.value
            let rows = try sink.orders().count
            print(
                "order hand-off through a reshard: moved slots \(moved); \(reader.nodeMetrics().map(\.redirects).reduce(0, +)) redirects followed by the consumer; \(total) orders in the streams, \(rows) in the database; test \(elapsed(since: start))"
            )
            #expect(caughtUp, "the database has \(rows) of \(total) orders")
            #expect(rowsAtMoves > 0, "the consumer was draining while the slots moved")
            let redirects = reader.nodeMetrics().map(\.redirects).reduce(0, +)
            #expect(redirects > 0, "the consumer's reads followed the moved slots")
            for (item, orders) in expected {
                let stored = Set(try sink.orders(item: item).map(\.order))
                #expect(stored == orders, "\(item)")
            }
            #expect(progress.failures.withLock { $0 }.allSatisfy { !$0.contains("NOGROUP") }, "\(progress.failures.withLock { $0 })")

            let audit = try await OrderAudit(client: harness.client).audit(items + [hot], database: sink)
            #expect(audit.clean, "\(audit.drifts) \(audit.unreadable)")
        }
    }
}
