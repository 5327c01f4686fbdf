import SeckillSale

/// One entry of an item's orders stream, read as an order event (see the README, "Order
/// hand-off"): a purchase, a payment, a cancellation or a release.
public struct OrderEvent: Sendable, Hashable {
    /// What happened to the order.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// `type purchase user U qty Q request R [due MS]`: the order was made.
        case purchase
        /// `type paid order O user U qty Q`: the order was paid before its deadline.
        case paid
        /// `type cancel order O user U qty Q`: the order was cancelled, its units returned.
        case cancel
        /// `type release order O user U qty Q`: the deadline passed unpaid, its units returned.
        case release
    }

    /// What happened.
    public var kind: Kind
    /// The item id.
    public var item: String
    /// The stream the entry was read from (`seckill:{ITEM}:orders`, or a bucket's stream).
    public var stream: String
    /// The entry's id in that stream: together with ``stream``, it identifies the event.
    public var entry: String
    /// The order id as callers see it: the purchase's entry id, `j:ENTRY` for bucket `j`.
    public var order: String
    /// The buyer.
    public var user: String
    /// Units.
    public var quantity: Int
    /// The purchase's request id (purchases only, when recorded).
    public var request: String?
    /// The payment deadline, unix ms (purchases of items sold with a deadline only).
    public var payBy: Int64?
    /// When the entry was written, unix ms (the first part of its id).
    public var at: Int64

    /// Creates an event.
    public init(
        kind: Kind, item: String, stream: String, entry: String, order: String, user: String, quantity: Int, request: String? = nil,
        payBy: Int64? = nil, at: Int64
    ) {
        self.kind = kind
        self.item = item
        self.stream = stream
        self.entry = entry
        self.order = order
        self.user = user
        self.quantity = quantity
        self.request = request
        self.payBy = payBy
        self.at = at
    }

    /// When the purchase of ``order`` was made, unix ms: the first part of its entry id.
    public var purchasedAt: Int64 { Self.milliseconds(of: BucketLayout.parseOrder(order)?.entry ?? order) ?? at }

    /// Reads one stream entry.
    ///
    /// - Parameters:
    ///   - source: The stream it was read from.
    ///   - entry: Its id.
    ///   - fields: Its field-value pairs.
    /// - Returns: The event.
    /// - Throws: ``OrderError`` (`malformedEntry`) naming what is wrong: such an entry is a
    ///   poison entry, dead-lettered after repeated attempts.
    public static func parse(source: OrdersStream, entry: String, fields: [String: String]) throws(OrderError) -> OrderEvent {
        guard let at = milliseconds(of: entry) else { throw .malformed("entry id \(entry) is not MILLISECONDS-SEQUENCE") }
        guard let type = fields["type"] else { throw .malformed("entry \(entry) has no type field") }
        guard let kind = Kind(rawValue: type) else { throw .malformed("entry \(entry) has unknown type \"\(type)\"") }
        guard let user = fields["user"], !user.isEmpty else { throw .malformed("\(type) entry \(entry) has no user") }
        guard let text = fields["qty"], let quantity = Int(text), quantity > 0 else {
            throw .malformed("\(type) entry \(entry) has qty \(fields["qty"].map { "\"\($0)\"" } ?? "missing"), not a positive integer")
        }
        var event = OrderEvent(
            kind: kind, item: source.item, stream: source.key, entry: entry, order: source.order(entry), user: user, quantity: quantity,
            at: at)
        switch kind {
        case .purchase:
            event.request = fields["request"]
            if let due = fields["due"] {
                guard let deadline = Int64(due) else { throw .malformed("purchase entry \(entry) has due \"\(due)\", not unix ms") }
                event.payBy = deadline
            }
        case .paid, .cancel, .release:
            guard let order = fields["order"], milliseconds(of: order) != nil else {
                throw .malformed("\(type) entry \(entry) has order \(fields["order"].map { "\"\($0)\"" } ?? "missing"), not an entry id")
            }
            event.order = source.order(order)
        }
        return event
    }

    /// The milliseconds of an id `MILLISECONDS-SEQUENCE`, nil for any other text.
    static func milliseconds(of id: String) -> Int64? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = Int64(parts[0]), milliseconds >= 0, UInt64(parts[1]) != nil else { return nil }
        return milliseconds
    }
}

/// An orders stream: a plain item's `seckill:{ITEM}:orders`, or bucket `j`'s
/// `seckill:b:{ITEM#G.K.j.s}:orders` (see ``BucketLayout``).
public struct OrdersStream: Sendable, Hashable, Comparable {
    /// The stream's key.
    public let key: String
    /// The item id.
    public let item: String
    /// The bucket, nil for a plain item.
    public let bucket: Int?

    /// Reads a key of either form.
    ///
    /// - Returns: nil for any other key.
    public init?(key: String) {
        guard key.hasSuffix("}:orders") else { return nil }
        if key.hasPrefix("seckill:{") {
            guard let item = ItemKeys.item(fromMetaKey: String(key.dropLast(":orders".count))) else { return nil }
            self.init(key: key, item: item, bucket: nil)
        } else if key.hasPrefix("seckill:b:{") {
            let tag = key.dropFirst("seckill:b:{".count).dropLast("}:orders".count)
            // ITEM#G.K.j.s: the item id may itself hold '#', the suffix never does.
            guard let hash = tag.lastIndex(of: "#") else { return nil }
            let parts = tag[tag.index(after: hash)...].split(separator: ".")
            guard parts.count == 4, let bucket = Int(parts[2]), hash > tag.startIndex else { return nil }
            self.init(key: key, item: String(tag[..<hash]), bucket: bucket)
        } else {
            return nil
        }
    }

    /// Creates a stream description from its parts.
    public init(key: String, item: String, bucket: Int?) {
        self.key = key
        self.item = item
        self.bucket = bucket
    }

    /// The dead-letter stream beside it (same hash tag, so the same slot): `KEY:dead`.
    public var deadLetterKey: String { key + ":dead" }

    /// The order id callers see for the purchase entry `entry` of this stream.
    public func order(_ entry: String) -> String { bucket.map { BucketLayout.order(bucket: $0, entry: entry) } ?? entry }

    public static func < (lhs: OrdersStream, rhs: OrdersStream) -> Bool { lhs.key < rhs.key }
}
