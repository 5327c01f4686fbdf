import Synchronization

/// The default ``OrderSink``: a SQLite database file, one transaction per batch.
///
/// Schema (created when missing; see the README, "Orders in SQLite"):
///
///     CREATE TABLE orders (
///       order_id TEXT NOT NULL,      -- as callers see it (bucketed items: j:ENTRY)
///       item TEXT NOT NULL, user TEXT NOT NULL, quantity INTEGER NOT NULL,
///       state TEXT NOT NULL CHECK (state IN ('unpaid','paid','confirmed','cancelled','released')),
///       purchased_at INTEGER NOT NULL, -- unix ms
///       pay_by INTEGER, paid_at INTEGER, cancelled_at INTEGER, released_at INTEGER,
///       PRIMARY KEY (item, order_id));
///     CREATE TABLE applied_entries (stream TEXT NOT NULL, entry TEXT NOT NULL,
///       PRIMARY KEY (stream, entry)) WITHOUT ROWID;
///
/// The key is the item and the order id: order ids are stream entry ids, which two items'
/// streams may share. Every event's stream and entry id go into `applied_entries` in the
/// batch's transaction, so an event delivered again changes nothing; state changes follow
/// ``OrderState/after(_:applying:)``, so an event arriving before an earlier one of its
/// order cannot corrupt the row.
///
/// The connection is used under a lock; SQLite calls block the calling thread for the length
/// of one batch's transaction.
public final class SQLiteOrderSink: OrderSink {
    // The connection is not thread-safe: every use goes through this lock.
    private let database: Mutex<SQLiteDatabase>
    /// The database file.
    public let path: String

    /// Opens (creating when missing) the database at `path` and its tables.
    ///
    /// - Throws: ``OrderError`` naming the file when it cannot be opened or its schema made.
    public init(path: String) throws(OrderError) {
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode=WAL")
        try database.execute(Self.schema)
        self.database = Mutex(database)
        self.path = path
    }

    /// The tables, created when missing.
    public static let schema = """
        CREATE TABLE IF NOT EXISTS orders (
          order_id TEXT NOT NULL,
          item TEXT NOT NULL,
          user TEXT NOT NULL,
          quantity INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('unpaid','paid','confirmed','cancelled','released')),
          purchased_at INTEGER NOT NULL,
          pay_by INTEGER,
          paid_at INTEGER,
          cancelled_at INTEGER,
          released_at INTEGER,
          PRIMARY KEY (item, order_id));
        CREATE TABLE IF NOT EXISTS applied_entries (
          stream TEXT NOT NULL,
          entry TEXT NOT NULL,
          PRIMARY KEY (stream, entry)) WITHOUT ROWID;
        """

    /// Commits `events` in one transaction.
    ///
    /// - Throws: ``OrderError`` (`database`): nothing of the batch was kept.
    public func commit(_ events: [OrderEvent]) async throws -> OrderSinkResult {
        try commitNow(events)
    }

    /// ``commit(_:)`` without suspending.
    public func commitNow(_ events: [OrderEvent]) throws(OrderError) -> OrderSinkResult {
        try database.withLock { (database) throws(OrderError) -> OrderSinkResult in
            try database.transaction { () throws(OrderError) -> OrderSinkResult in
                let applied = try database.prepare("INSERT OR IGNORE INTO applied_entries (stream, entry) VALUES (?, ?)")
                let select = try database.prepare(
                    "SELECT state, pay_by, paid_at, cancelled_at, released_at FROM orders WHERE item = ? AND order_id = ?")
                let insert = try database.prepare(
                    """
                    INSERT INTO orders (order_id, item, user, quantity, state, purchased_at, pay_by, paid_at, cancelled_at, released_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let update = try database.prepare(
                    "UPDATE orders SET state = ?, pay_by = ?, paid_at = ?, cancelled_at = ?, released_at = ? WHERE item = ? AND order_id = ?"
                )
                var result = OrderSinkResult()
                for event in events {
                    try applied.run([.text(event.stream), .text(event.entry)])
                    guard database.changes == 1 else {
                        result.unchanged += 1
                        continue
                    }
                    let row = try select.rows([.text(event.item), .text(event.order)]).first
                    let state = row.flatMap { $0[0] }.flatMap(OrderState.init(rawValue:))
                    var times = (
                        payBy: Self.int(row?[1]), paid: Self.int(row?[2]), cancelled: Self.int(row?[3]), released: Self.int(row?[4])
                    )
                    switch event.kind {
                    case .purchase: times.payBy = times.payBy ?? event.payBy
                    case .paid: times.paid = times.paid ?? event.at
                    case .cancel: times.cancelled = times.cancelled ?? event.at
                    case .release: times.released = times.released ?? event.at
                    }
                    let next = OrderState.after(state, applying: event)
                    let values: [SQLiteDatabase.Value] = [
                        .text(next.rawValue), Self.value(times.payBy), Self.value(times.paid), Self.value(times.cancelled),
                        Self.value(times.released),
                    ]
                    if row == nil {
                        try insert.run(
                            [.text(event.order), .text(event.item), .text(event.user), .int(Int64(event.quantity)), values[0]]
                                + [.int(event.purchasedAt)] + values[1...])
                        result.inserted += 1
                    } else if next != state || times.payBy != Self.int(row?[1]) || times.paid != Self.int(row?[2])
                        || times.cancelled != Self.int(row?[3]) || times.released != Self.int(row?[4])
                    {
                        try update.run(values + [.text(event.item), .text(event.order)])
                        result.updated += 1
                    } else {
                        result.unchanged += 1
                    }
                }
                return result
            }
        }
    }

    /// The orders in the database, of `item` only when given, by item and order id.
    ///
    /// - Throws: ``OrderError`` when the database cannot be read.
    public func orders(item: String? = nil) throws(OrderError) -> [OrderRow] {
        try database.withLock { (database) throws(OrderError) -> [OrderRow] in
            let columns = "order_id, item, user, quantity, state, purchased_at, pay_by, paid_at, cancelled_at, released_at"
            let rows =
                if let item {
                    try database.prepare("SELECT \(columns) FROM orders WHERE item = ? ORDER BY order_id").rows([.text(item)])
                } else {
                    try database.prepare("SELECT \(columns) FROM orders ORDER BY item, order_id").rows()
                }
            return rows.map { row in
                OrderRow(
                    order: row[0] ?? "", item: row[1] ?? "", user: row[2] ?? "", quantity: Int(row[3] ?? "") ?? 0,
                    state: OrderState(rawValue: row[4] ?? "") ?? .confirmed, purchasedAt: Self.int(row[5]) ?? 0, payBy: Self.int(row[6]),
                    paidAt: Self.int(row[7]), cancelledAt: Self.int(row[8]), releasedAt: Self.int(row[9]))
            }
        }
    }

    /// The items that have orders in the database, sorted.
    public func items() throws(OrderError) -> [String] {
        try database.withLock { (database) throws(OrderError) -> [String] in
            try database.prepare("SELECT DISTINCT item FROM orders ORDER BY item").rows().compactMap { $0[0] }
        }
    }

    private static func int(_ text: String??) -> Int64? { (text ?? nil).flatMap { Int64($0) } }
    private static func value(_ number: Int64?) -> SQLiteDatabase.Value { number.map { .int($0) } ?? .null }
}

/// One row of the `orders` table.
public struct OrderRow: Sendable, Hashable {
    /// The order id as callers see it.
    public var order: String
    /// The item id.
    public var item: String
    /// The buyer.
    public var user: String
    /// Units.
    public var quantity: Int
    /// The state.
    public var state: OrderState
    /// Unix ms of the purchase.
    public var purchasedAt: Int64
    /// The payment deadline, unix ms, nil without one.
    public var payBy: Int64?
    /// When it was paid, unix ms.
    public var paidAt: Int64?
    /// When it was cancelled, unix ms.
    public var cancelledAt: Int64?
    /// When it was released, unix ms.
    public var releasedAt: Int64?
}
