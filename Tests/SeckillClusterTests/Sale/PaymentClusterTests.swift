import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Synchronization
import Testing

extension ClusterTests {
    /// Payment deadlines on a real Redis Cluster.
    @Suite struct PaymentClusterTests {
        @Test func sweepsReleaseUnpaidOrdersWhileTheItemsSlotMoves() async throws {
            let harness = try await ClusterHarness.start(primaries: 3, replicas: 0)
            let cluster = harness.cluster
            let coordinator = harness.coordinator()
            let items = (0..<4).map { "\(harness.prefix)-pay-\($0)" }
            for item in items { _ = try await coordinator.publish(item, stock: 40, limitPerUser: 1, payWithin: .seconds(3)) }
            var orders: [String: [String]] = [:]
            for item in items {
                for index in 0..<30 {
                    let result = try await coordinator.purchase(item, user: "u\(index)")
                    guard case .purchased(let order, _) = result else { throw TestFailure("purchase answered \(result)") }
                    orders[item, default: []].append(order)
                }
            }
            let bought = orders
            // A sweeper of its own, sweeping every 20 ms until told to stop.
            let sweeper = SaleCoordinator(client: harness.client, options: SaleOptions(callDeadline: .seconds(10)))
            let stop = Atomic<Bool>(false)
            let sweeping = Task {
                var failures: [String] = []
                var released = 0
                while !stop.load(ordering: .relaxed) {
                    let sweep = try await sweeper.sweepPayments()
                    failures += sweep.failures
                    released += sweep.total
                    try await Task.sleep(for: .milliseconds(20))
                }
                return (released, failures)
            }
            // Half of each item's orders are paid, concurrently, while the first item's slot moves.
            let paying = Task {
                // Keyed by item and order: two items' streams can give the same entry id.
                try await withThrowingTaskGroup(of: (String, String).self) { group in
                    for item in items {
                        for (index, order) in (bought[item] ?? []).enumerated() where index % 2 == 0 {
                            group.addTask { ("\(item) \(order)", try await coordinator.pay(item, order: order).kind) }
                        }
                    }
                    var kinds: [String: String] = [:]
                    for try await (key, kind) in group { kinds[key] = kind }
                    return kinds
                }
            }
            let slot = ClusterHarness.slot(of: items[0])
            let source = try await cluster.primary(ofSlot: Int(slot.rawValue))
            let target = try #require(try await cluster.primaries().first { $0.port != source.port })
            let migration = try await cluster.beginMigration(slot: Int(slot.rawValue), from: source, to: target)
            try await Task.sleep(for: .milliseconds(150))
            try await cluster.moveKeys(migration, batch: 100)
            func releases() async throws -> Int {
                // Through the client, which follows the source's ASK to the target.
                let stream = try await harness.client.execute(
                    [RESPCommand("XRANGE", ItemKeys(item: items[0]).orders, "-", "+")], slot: slot, deadline: .now + .seconds(5))[0]
                return (stream.array ?? []).filter { $0.array?.last?.array?.contains { $0.string == "release" } == true }.count
            }
            #expect(try await releases() == 0, "released before the keys moved: the deadline is too short for this machine")
            // The deadlines pass while the slot is still migrating: the sweeps follow ASK to the target.
            let moved = await harness.eventually(timeout: .seconds(5)) { ((try? await releases()) ?? 0) > 0 }
            let migrating = try await cluster.command(source, "CLUSTER", "COUNTKEYSINSLOT", String(slot.rawValue)).int
            #expect(migrating == 0, "the keys should all be on the target, the slot still migrating")
            #expect(moved, "no release reached the target while the slot was migrating")
            try await cluster.finishMigration(migration)
            let paid = try await paying.value
            // On a slow machine a payment sent while the slot moves can arrive after its deadline:
            // it is then refused and released in the same step (`late`), or finds a sweep released
            // it first (`released`). Every order still ends exactly one way, and the stream says which.
            #expect(paid.values.allSatisfy { ["paid", "late", "released"].contains($0) }, "\(paid.values.filter { $0 != "paid" })")
            let paidOrders = Set(paid.filter { $0.value == "paid" }.keys)
            let late = paid.values.filter { $0 == "late" }.count
            #expect(paidOrders.count > 0)
            _ = await harness.eventually(timeout: .seconds(10)) {
                var left = 0
                for item in items { left += (try? await coordinator.pendingOrders(item)?.count) ?? 1 }
                return left == 0
            }
            stop.store(true, ordering: .relaxed)
            let (released, failures) = try await sweeping.value
            #expect(failures.isEmpty, "\(failures.prefix(3))")
            #expect(released + late == 120 - paidOrders.count)

            for item in items {
                var settled: [String: String] = [:]
                let stream = try await coordinator.client.execute(
                    [RESPCommand("XRANGE", ItemKeys(item: item).orders, "-", "+")], slot: ClusterHarness.slot(of: item),
                    deadline: .now + .seconds(10))[0]
                for entry in stream.array ?? [] {
                    let fields = entry.array?.last?.array?.compactMap(\.string) ?? []
                    guard let type = fields.firstIndex(of: "type").map({ fields[$0 + 1] }), type == "paid" || type == "release",
                        let order = fields.firstIndex(of: "order").map({ fields[$0 + 1] })
                    else { continue }
                    #expect(settled[order] == nil, "\(item) order \(order) settled twice")
                    settled[order] = type
                }
                for order in orders[item] ?? [] {
                    #expect(
                        settled[order] == (paidOrders.contains("\(item) \(order)") ? "paid" : "release"),
                        "\(item) order \(order): \(settled[order] ?? "neither")")
                }
            }
            let onTarget = try await cluster.command(target, "CLUSTER", "COUNTKEYSINSLOT", String(slot.rawValue)).int
            #expect((onTarget ?? 0) >= 5)
            let invariants = try await InvariantChecker(client: harness.client).check(items)
            #expect(invariants.holds, "\(invariants.violations.prefix(5))")
            #expect(invariants.releases == 120 - paidOrders.count && invariants.payments == paidOrders.count)
        }
    }
}
