import SeckillRESP
public import SeckillRouting
import SeckillTransport

/// What the invariant check read back from Redis.
public struct InvariantReport: Sendable {
    /// Items checked.
    public var items = 0
    /// Units published over all items.
    public var totalUnits = 0
    /// Units sold over all items (net of cancellations), from the item hashes.
    public var soldUnits = 0
    /// Purchase entries in the orders streams.
    public var purchases = 0
    /// Cancellation entries in the orders streams.
    public var cancellations = 0
    /// Payment entries (`type paid`) in the orders streams.
    public var payments = 0
    /// Release entries (unpaid orders released at their deadline) in the orders streams.
    public var releases = 0
    /// Every broken invariant, one line each.
    public var violations: [String] = []
    /// Items that could not be read (a node down), one line each: nothing is known of them,
    /// so the invariants are not claimed to hold.
    public var unreadable: [String] = []

    /// True when every item was read and no invariant is broken.
    public var holds: Bool { violations.isEmpty && unreadable.isEmpty }

    /// Adds the units, entries and violations of `part` (a group of items, or one bucket).
    mutating func addCounts(of part: InvariantReport) {
        totalUnits += part.totalUnits
        soldUnits += part.soldUnits
        purchases += part.purchases
        cancellations += part.cancellations
        payments += part.payments
        releases += part.releases
        violations += part.violations
    }
}

/// Checks a sale's invariants from what Redis holds, independently of any counter kept by
/// the process that ran the sale. For every item:
/// - `0 <= sold <= total`;
/// - `sold` == the sum of the buyers hash == units purchased minus units cancelled and
///   released in the orders stream;
/// - for items with a payment deadline: every payment and release settles an order that was
///   unpaid (never both, never twice, never after a cancellation), and the deadlines set holds
///   exactly the orders the stream leaves unpaid;
/// - no user holds more than the limit, and none holds zero or fewer units;
/// - every buyer's units equal their purchases minus cancellations in the stream.
public struct InvariantChecker: Sendable {
    let client: ClusterClient

    /// Creates a checker reading through `client`.
    public init(client: ClusterClient) { self.client = client }

    /// Checks `items`, up to 64 at a time (use ``SaleCoordinator/allItems()`` to find every
    /// item on the nodes). Every read takes the client's one route: each chunk's first reads
    /// (item hash, first page of buyers and of orders) in one round trip per node through
    /// ``ClusterClient/execute(_:deadline:)``, further pages through
    /// ``ClusterClient/execute(_:slot:deadline:)``, so a check during resharding follows
    /// `MOVED` and `ASK`.
    ///
    /// - Returns: What was read and every violation found.
    /// - Throws: ``SaleError`` for an invalid item id. Items on a node that cannot be read are
    ///   listed in ``InvariantReport/unreadable``.
    public func check(_ items: [String]) async throws(SaleError) -> InvariantReport {
        for item in items { try SaleInput.validateItem(item) }
        var report = InvariantReport()
        for start in stride(from: 0, to: items.count, by: 64) {
            let chunk = Array(items[start..<min(start + 64, items.count)])
            // Every item's first reads in one round trip per node; only the items with more
            // buyers or orders than a page read on, each through the single-call route.
            var calls: [ClusterClient.Call] = []
            calls.reserveCapacity(chunk.count * 3)
            for item in chunk {
                let keys = ItemKeys(item: item)
                let slot = HashSlot(key: keys.meta)
                calls.append(.init(slot: slot, commands: [RESPCommand("HMGET", keys.meta, "total", "sold", "limit")]))
                calls.append(.init(slot: slot, commands: [Self.buyersPage(keys, cursor: "0")]))
                calls.append(.init(slot: slot, commands: [Self.ordersPage(keys, from: "-")]))
            }
            let firsts = await client.execute(calls, deadline: ContinuousClock.now + Self.readDeadline)
            let partials = await withTaskGroup(of: Result<InvariantReport, SaleError>.self) { group in
                for (position, item) in chunk.enumerated() {
                    let first = FirstReads(meta: firsts[position * 3], buyers: firsts[position * 3 + 1], orders: firsts[position * 3 + 2])
                    group.addTask {
                        var partial = InvariantReport()
                        do throws(SaleError) {
                            try await check(item, keys: ItemKeys(item: item), first: first, into: &partial)
                        } catch {
                            return .failure(error)
                        }
                        return .success(partial)
                    }
                }
                var collected: [Result<InvariantReport, SaleError>] = []
                for await result in group { collected.append(result) }
                return collected
            }
            for partial in partials {
                // A node that cannot be read does not hide what the others hold.
                let value: InvariantReport
                switch partial {
                case .success(let read): value = read
                case .failure(let error):
                    report.unreadable.append(error.message)
                    continue
                }
                report.items += value.items
                report.addCounts(of: value)
            }
        }
        return report
    }

    /// Compares the deadlines set of an item with the orders its stream leaves unpaid.
    private func checkDeadlines(_ item: String, keys: ItemKeys, unpaid: Set<String>, into report: inout InvariantReport)
        async throws(SaleError)
    {
        let slot = HashSlot(key: keys.meta)
        var pending = Set<String>()
        var start = 0
        while true {
            let page =
                try await read(RESPCommand("ZRANGE", keys.due, String(start), String(start + 999)), slot: slot, of: item).array ?? []
            for member in page { if let order = member.string { pending.insert(order) } }
            if page.count < 1000 { break }
            start += 1000
        }
        for order in pending.subtracting(unpaid).sorted().prefix(10) {
            report.violations.append("\(item): order \(order) is in the deadlines set but the stream has it settled or unknown")
        }
        for order in unpaid.subtracting(pending).sorted().prefix(10) {
            report.violations.append("\(item): order \(order) is unpaid in the stream but missing from the deadlines set")
        }
    }

    /// How long one read may wait out redirects and backoffs.
    private static let readDeadline = Duration.seconds(10)

    /// The replies to an item's first three reads: its hash, the first page of its buyers and
    /// of its orders.
    struct FirstReads: Sendable {
        var meta: Result<ClusterClient.Answer, RedisError>
        var buyers: Result<ClusterClient.Answer, RedisError>
        var orders: Result<ClusterClient.Answer, RedisError>
    }

    static func buyersPage(_ keys: ItemKeys, cursor: String) -> RESPCommand {
        RESPCommand("HSCAN", keys.buyers, cursor, "COUNT", "1000")
    }

    static func ordersPage(_ keys: ItemKeys, from start: String) -> RESPCommand {
        RESPCommand("XRANGE", keys.orders, start, "+", "COUNT", "1000")
    }

    /// The reply of a one-command call, or the error that makes the item unreadable.
    func value(_ answer: Result<ClusterClient.Answer, RedisError>, of item: String) throws(SaleError) -> RESPValue {
        let error: RedisError
        switch answer {
        case .success(let answer):
            let reply = answer.replies.first ?? .null
            guard let message = reply.errorMessage else { return reply }
            error = RedisError.server(message, node: answer.node.name)
        case .failure(let failure):
            error = failure
        }
        throw SaleError(code: .redis, message: "invariant check of \(item): \(error)", redis: error)
    }

    /// One more page of an item, through the cluster client (so a check during resharding
    /// follows MOVED / ASK).
    func read(_ command: RESPCommand, slot: HashSlot, of item: String) async throws(SaleError) -> RESPValue {
        do {
            let reply = try await client.execute(command, slot: slot, deadline: ContinuousClock.now + Self.readDeadline)
            if let message = reply.errorMessage { throw RedisError.server(message, node: client.router.node(for: slot).name) }
            return reply
        } catch {
            throw SaleError(code: .redis, message: "invariant check of \(item): \(error)", redis: error as? RedisError)
        }
    }

    /// Checks the item (or bucket) whose keys are `keys`, named `item` in the violations.
    ///
    /// - Returns: The units each buyer holds.
    @discardableResult
    func check(_ item: String, keys: ItemKeys, first: FirstReads, into report: inout InvariantReport) async throws(SaleError) -> [String:
        Int]
    {
        let slot = HashSlot(key: keys.meta)
        let meta = try value(first.meta, of: item).array ?? []
        report.items += 1
        guard meta.count == 3, let total = meta[0].int else {
            // A bucketed item's root hash holds no stock: its buckets are checked instead.
            if try await checkBuckets(item, into: &report) { return [:] }
            report.violations.append("\(item): item hash missing")
            return [:]
        }
        let sold = Int(meta[1].int ?? 0)
        let limit = Int(meta[2].int ?? 0)
        report.totalUnits += Int(total)
        report.soldUnits += sold
        if sold < 0 || sold > Int(total) { report.violations.append("\(item): sold \(sold) is outside 0...\(total)") }

        // Buyers page by page (HSCAN): a hot item's hash can hold millions of users, and one
        // HGETALL reply that size would stall the node and this client's event loop.
        var held: [String: Int] = [:]
        var page = try value(first.buyers, of: item)
        while true {
            guard let parts = page.array, parts.count == 2, let next = parts[0].string, let flat = parts[1].array else {
                throw SaleError(code: .unexpectedReply, message: "invariant check of \(item): HSCAN answered \(page)")
            }
            var index = 0
            while index + 1 < flat.count {
                // HSCAN may return a field twice while the hash is rehashed: keep the last value.
                held[flat[index].string ?? ""] = Int(flat[index + 1].int ?? 0)
                index += 2
            }
            if next == "0" { break }
            page = try await read(Self.buyersPage(keys, cursor: next), slot: slot, of: item)
        }
        let heldSum = held.values.reduce(0, +)
        if heldSum != sold { report.violations.append("\(item): sold is \(sold) but the buyers hold \(heldSum)") }
        for (user, units) in held {
            if units <= 0 { report.violations.append("\(item): buyer \(user) holds \(units) units") }
            if limit > 0 && units > limit {
                report.violations.append("\(item): buyer \(user) holds \(units) units, above the limit \(limit)")
            }
        }

        // Replay the orders stream page by page.
        var fromStream: [String: Int] = [:]
        var net = 0
        // Orders of a deadline item not yet paid, released or cancelled, and how each ended.
        var unpaid = Set<String>()
        var settled: [String: String] = [:]
        var deadlines = false
        func settle(_ order: String?, as kind: String, entry: String) {
            guard let order else {
                report.violations.append("\(item): \(kind) entry \(entry) names no order")
                return
            }
            if !unpaid.contains(order) {
                report.violations.append(
                    "\(item): order \(order) \(kind) (entry \(entry)) but it was not unpaid (\(settled[order] ?? "no such unpaid order"))")
            }
            unpaid.remove(order)
            settled[order] = kind
        }
        page = try value(first.orders, of: item)
        while true {
            let entries = page.array ?? []
            for entry in entries {
                guard let parts = entry.array, parts.count == 2, let fields = parts[1].array else { continue }
                var values: [String: String] = [:]
                var i = 0
                while i + 1 < fields.count {
                    values[fields[i].string ?? ""] = fields[i + 1].string
                    i += 2
                }
                let quantity = Int(values["qty"] ?? "") ?? 0
                let user = values["user"] ?? ""
                let id = parts[0].string ?? "?"
                switch values["type"] {
                case "purchase":
                    report.purchases += 1
                    net += quantity
                    fromStream[user, default: 0] += quantity
                    if values["due"] != nil {
                        deadlines = true
                        unpaid.insert(id)
                    }
                case "cancel":
                    report.cancellations += 1
                    net -= quantity
                    fromStream[user, default: 0] -= quantity
                    if let order = values["order"] {
                        if settled[order] == "released" {
                            report.violations.append("\(item): order \(order) cancelled (entry \(id)) after its release")
                        }
                        unpaid.remove(order)
                        settled[order] = "cancelled"
                    }
                case "paid":
                    report.payments += 1
                    settle(values["order"], as: "paid", entry: id)
                case "release":
                    report.releases += 1
                    net -= quantity
                    fromStream[user, default: 0] -= quantity
                    settle(values["order"], as: "released", entry: id)
                default:
                    report.violations.append("\(item): order entry \(parts[0].string ?? "?") has no known type")
                }
            }
            guard entries.count == 1000, let last = entries.last?.array?.first?.string else { break }
            page = try await read(Self.ordersPage(keys, from: "(" + last), slot: slot, of: item)
        }
        if net != sold { report.violations.append("\(item): sold is \(sold) but the orders stream nets \(net) units") }
        if deadlines { try await checkDeadlines(item, keys: keys, unpaid: unpaid, into: &report) }
        for (user, units) in fromStream where units != (held[user] ?? 0) {
            report.violations.append("\(item): orders give \(user) \(units) units but the buyers hash says \(held[user] ?? 0)")
        }
        return held
    }
}
