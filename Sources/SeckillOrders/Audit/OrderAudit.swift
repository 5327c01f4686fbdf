import SeckillRESP
public import SeckillRouting
import SeckillSale
import SeckillTransport

/// Reconciles Redis with itself and with the order database, item by item (plain and
/// bucketed): the units sold by the counters, the units the buyers hold, the units the
/// orders streams net (purchases minus cancellations minus releases), and, with a database,
/// every order the streams describe against the database's rows (missing, extra, or in
/// another state). Every disagreement is named with its item and count.
///
/// Reads take the cluster client's one route (``ClusterClient/execute(_:slot:deadline:)``),
/// so an audit during a reshard follows `MOVED` and `ASK`. Run it once the consumer has
/// caught up: orders not drained yet show as missing from the database.
public struct OrderAudit: Sendable {
    /// The client every read goes through.
    public let client: ClusterClient
    /// How long one read may wait out redirects and backoffs.
    public var readDeadline: Duration = .seconds(10)

    /// Creates an audit reading through `client`.
    public init(client: ClusterClient) { self.client = client }

    /// Audits `items`, or every item on the nodes (and, with a database, every item it has
    /// orders of) when `items` is empty.
    ///
    /// - Parameters:
    ///   - items: Item ids; empty for all.
    ///   - database: The order database to compare with, if any.
    /// - Returns: One audit per item, sorted by item.
    /// - Throws: ``OrderError``: `redis` when the items cannot be listed, `database` when
    ///   the database cannot be read. An item whose node cannot be read is reported in
    ///   ``AuditReport/unreadable``.
    public func audit(_ items: [String], database: SQLiteOrderSink? = nil) async throws(OrderError) -> AuditReport {
        var names = items
        if names.isEmpty {
            do {
                names = try await client.keys(matching: "seckill:{*}", type: "hash").compactMap(ItemKeys.item(fromMetaKey:))
            } catch {
                throw OrderError(.redis, "cannot list the items: \(error)")
            }
            if let database { names += try database.items() }
        }
        var report = AuditReport()
        for item in Set(names).sorted() {
            do throws(OrderError) {
                report.items.append(try await audit(item, database: database))
            } catch  where error.code == .redis {
                report.unreadable.append(error.message)
            }
        }
        return report
    }

    /// Audits one item.
    private func audit(_ item: String, database: SQLiteOrderSink?) async throws(OrderError) -> ItemAudit {
        var audit = ItemAudit(item: item)
        let root = ItemKeys(item: item)
        let meta =
            try await read(
                RESPCommand("HMGET", root.meta, "total", "sold", "buckets", "generation", "salts", "limit"), key: root.meta, item
            )
            .array ?? []
        var parts: [(ItemKeys, OrdersStream)] = []
        if meta.count == 6, meta[0].int != nil {
            parts = [(root, OrdersStream(key: root.orders, item: item, bucket: nil))]
        } else if meta.count == 6, let count = meta[2].int, let generation = meta[3].int,
            let salts = meta[4].string.map({ $0.split(separator: ",").compactMap { Int($0) } }), salts.count == Int(count)
        {
            let layout = BucketLayout(item: item, generation: Int(generation), salts: salts, limit: Int(meta[5].int ?? 0))
            parts = (0..<layout.count).map { (layout.keys($0), OrdersStream(key: layout.keys($0).orders, item: item, bucket: $0)) }
            audit.buckets = layout.count
        } else {
            audit.published = false
        }

        var expected: [String: (user: String, quantity: Int, state: OrderState)] = [:]
        for (keys, stream) in parts {
            if meta.count == 6, meta[0].int != nil {
                audit.sold += Int(meta[1].int ?? 0)
            } else {
                audit.sold += Int(try await read(RESPCommand("HGET", keys.meta, "sold"), key: keys.meta, item).int ?? 0)
            }
            audit.held += try await heldUnits(keys, item)
            try await replay(stream, item, into: &audit, orders: &expected)
        }

        if audit.published {
            if audit.held != audit.sold { audit.drifts.append("\(item): sold is \(audit.sold) but the buyers hold \(audit.held) units") }
            if audit.streamNet != audit.sold {
                audit.drifts.append("\(item): sold is \(audit.sold) but the orders stream nets \(audit.streamNet) units")
            }
        }
        guard let database else {
            if !audit.published { audit.drifts.append("\(item): not published") }
            return audit
        }

        let rows = try database.orders(item: item)
        var comparison = DatabaseComparison(rows: rows.count)
        var seen = Set<String>()
        for row in rows {
            seen.insert(row.order)
            guard let want = expected[row.order] else {
                comparison.extra.append(row.order)
                continue
            }
            if want.state != row.state || want.quantity != row.quantity || want.user != row.user {
                comparison.different.append("\(row.order) (database \(row.state.rawValue), stream \(want.state.rawValue))")
            }
        }
        comparison.missing = expected.keys.filter { !seen.contains($0) }.sorted()
        audit.database = comparison
        if !audit.published && rows.isEmpty { audit.drifts.append("\(item): not published") }
        if !audit.published && !rows.isEmpty {
            audit.drifts.append("\(item): not in Redis, but the database has \(Self.count(rows.count, "order"))")
        } else if !comparison.extra.isEmpty {
            audit.drifts.append(
                "\(item): \(Self.count(comparison.extra.count, "order")) in the database but not in the orders stream (lost from Redis?): \(Self.sample(comparison.extra))"
            )
        }
        if !comparison.missing.isEmpty {
            audit.drifts.append(
                "\(item): \(Self.count(comparison.missing.count, "order")) in the orders stream but missing from the database: \(Self.sample(comparison.missing))"
            )
        }
        if !comparison.different.isEmpty {
            audit.drifts.append(
                "\(item): \(Self.count(comparison.different.count, "order")) in a different state in the database: \(Self.sample(comparison.different))"
            )
        }
        return audit
    }

    /// Replays one orders stream page by page: units net, and each order's state.
    private func replay(
        _ stream: OrdersStream, _ item: String, into audit: inout ItemAudit,
        orders: inout [String: (user: String, quantity: Int, state: OrderState)]
    ) async throws(OrderError) {
        var start = "-"
        while true {
            let page = try await read(RESPCommand("XRANGE", stream.key, start, "+", "COUNT", "1000"), key: stream.key, item).array ?? []
            for entry in OrderConsumer.entries(.array([.array([.bulkString(Array(stream.key.utf8)), .array(page)])])) {
                guard let fields = entry.fields,
                    let event = try? OrderEvent.parse(source: stream, entry: entry.id, fields: Dictionary(fields, uniquingKeysWith: { $1 }))
                else {
                    audit.malformed += 1
                    continue
                }
                switch event.kind {
                case .purchase:
                    audit.purchases += 1
                    audit.streamNet += event.quantity
                case .cancel:
                    audit.cancellations += 1
                    audit.streamNet -= event.quantity
                case .release:
                    audit.releases += 1
                    audit.streamNet -= event.quantity
                case .paid:
                    audit.payments += 1
                }
                let known = orders[event.order]
                orders[event.order] = (
                    known?.user ?? event.user, known?.quantity ?? event.quantity, OrderState.after(known?.state, applying: event)
                )
            }
            guard page.count == 1000, let last = page.last?.array?.first?.string else { return }
            start = "(" + last
        }
    }

    /// The units the buyers hash of `keys` holds, read with `HSCAN`.
    private func heldUnits(_ keys: ItemKeys, _ item: String) async throws(OrderError) -> Int {
        var held: [String: Int] = [:]
        var cursor = "0"
        repeat {
            let page = try await read(RESPCommand("HSCAN", keys.buyers, cursor, "COUNT", "1000"), key: keys.meta, item).array ?? []
            guard page.count == 2, let next = page[0].string else { throw OrderError(.redis, "audit of \(item): HSCAN answered \(page)") }
            let flat = page[1].array ?? []
            var index = 0
            while index + 1 < flat.count {
                held[flat[index].string ?? ""] = Int(flat[index + 1].int ?? 0)
                index += 2
            }
            cursor = next
        } while cursor != "0"
        return held.values.reduce(0, +)
    }

    private func read(_ command: RESPCommand, key: String, _ item: String) async throws(OrderError) -> RESPValue {
        do {
            let reply = try await client.execute(command, slot: HashSlot(key: key), deadline: .now + readDeadline)
            if let message = reply.errorMessage { throw OrderError(.redis, "audit of \(item): \(message)") }
            return reply
        } catch let error as OrderError {
            throw error
        } catch {
            throw OrderError(.redis, "audit of \(item): \(error)")
        }
    }

    private static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    private static func sample(_ list: [String]) -> String {
        list.prefix(5).joined(separator: ", ") + (list.count > 5 ? ", ... (\(list.count - 5) more)" : "")
    }
}

/// What ``OrderAudit`` found.
public struct AuditReport: Sendable {
    /// One audit per item, sorted by item.
    public var items: [ItemAudit] = []
    /// Items that could not be read (a node down), one line each: nothing is claimed of them.
    public var unreadable: [String] = []

    /// Every drift of every item, one line each.
    public var drifts: [String] { items.flatMap(\.drifts) }

    /// True when every item was read and none drifted.
    public var clean: Bool { unreadable.isEmpty && items.allSatisfy(\.drifts.isEmpty) }
}

/// The audit of one item.
public struct ItemAudit: Sendable {
    /// The item id.
    public var item: String
    /// False when Redis has no item hash for it.
    public var published = true
    /// Buckets, 0 for a plain item.
    public var buckets = 0
    /// Units sold, by the counters (all buckets).
    public var sold = 0
    /// Units the buyers hold (all buckets).
    public var held = 0
    /// Units the orders streams net: purchases minus cancellations minus releases.
    public var streamNet = 0
    /// Purchase entries.
    public var purchases = 0
    /// Cancellation entries.
    public var cancellations = 0
    /// Release entries.
    public var releases = 0
    /// Payment entries.
    public var payments = 0
    /// Stream entries that are not order events: not a drift (they hold no units the counters
    /// know of), but the consumer dead-letters them (see `KEY:dead`).
    public var malformed = 0
    /// The database against the streams, when a database was given.
    public var database: DatabaseComparison?
    /// Every disagreement, one line each, starting with the item id.
    public var drifts: [String] = []

    init(item: String) { self.item = item }
}

/// An item's orders in the database against its orders streams.
public struct DatabaseComparison: Sendable {
    /// Rows of the item in the database.
    public var rows = 0
    /// Orders in the streams without a row.
    public var missing: [String] = []
    /// Rows without an order in the streams (lost from Redis, or never there).
    public var extra: [String] = []
    /// Orders whose row has another state, user or quantity: `ORDER (database S, stream T)`.
    public var different: [String] = []
}
