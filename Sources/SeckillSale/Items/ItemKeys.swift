/// The Redis keys of one item. Every key carries the hash tag `{ITEM}`, so all of them live in
/// one slot on one node and a single script can touch them together.
///
/// - `seckill:{ITEM}` hash: `total`, `sold`, `limit`, optional `start` / `end` (unix ms), `epoch`.
/// - `seckill:{ITEM}:buyers` hash: user id -> units held.
/// - `seckill:{ITEM}:orders` stream: one entry per purchase (`type purchase user U qty Q
///   request R`) and per cancellation (`type cancel order O user U qty Q`); a purchase's
///   order id is its entry id.
/// - `seckill:{ITEM}:cancels` hash: order id -> `cancellationID|qty|callID|user`, so a cancel
///   is applied once and a retried call gets its own answer back.
/// - `seckill:{ITEM}:requests` hash: request id -> the answer of the purchase that bought
///   with it (`P|order|remaining`). Only purchases that bought are recorded, so the hash grows
///   with units sold, never with refused attempts; it lives as long as the item.
/// - `seckill:{ITEM}:restocks` hash: the same for restocks, apart from purchases so that no
///   purchase id can read or pre-empt a restock's record.
/// - `seckill:{ITEM}:due` sorted set (items published with a payment deadline): order id ->
///   deadline (unix ms) of every purchase not yet paid, released or cancelled.
/// - `seckill:{ITEM}:payments` hash: order id -> `P|entry|qty|user` once paid or
///   `R|entry|qty|user` once released at its deadline (the entry is the `paid` / `release`
///   stream entry), so a payment or release is applied once and a late payment is told why.
///
/// Nothing is stored per attempt: a crowd of refused attempts adds no key and no byte, and no
/// purchase names a key that does not exist yet once the item has sold, so a migrating slot
/// keeps serving purchases instead of answering `TRYAGAIN`.
public struct ItemKeys: Sendable, Hashable {
    /// The item id.
    public let item: String
    /// `seckill:{ITEM}`
    public let meta: String
    /// `seckill:{ITEM}:buyers`
    public let buyers: String
    /// `seckill:{ITEM}:orders`
    public let orders: String
    /// `seckill:{ITEM}:requests`
    public let requests: String
    /// `seckill:{ITEM}:cancels` (built on use: purchases never need it)
    public var cancels: String { meta + ":cancels" }

    /// The keys of `item`; the id must already be valid (see ``SaleInput/validateItem(_:)``).
    public init(item: String) {
        self.init(item: item, meta: "seckill:{\(item)}")
    }

    /// The keys of `item` whose hash is `meta`: the others are named after it.
    init(item: String, meta: String) {
        self.item = item
        self.meta = meta
        buyers = meta + ":buyers"
        orders = meta + ":orders"
        requests = meta + ":requests"
    }

    /// `seckill:{ITEM}:restocks` (built on use: purchases never need it)
    public var restocks: String { meta + ":restocks" }

    /// `seckill:{ITEM}:due`: unpaid orders by deadline (built on use).
    public var due: String { meta + ":due" }

    /// `seckill:{ITEM}:payments`: the orders paid or released (built on use).
    public var payments: String { meta + ":payments" }

    /// Every key of the item, the item hash first.
    public var all: [String] { [meta, buyers, orders, cancels, requests, restocks, due, payments] }

    /// The KEYS of the purchase script: the item hash, buyers, orders and request records, and
    /// the deadlines set when the item has a payment deadline.
    func purchaseKeys(due withDue: Bool) -> [String] {
        withDue ? [meta, buyers, orders, requests, due] : [meta, buyers, orders, requests]
    }

    /// The item id in a key of the form `seckill:{ITEM}`, or nil for any other key.
    public static func item(fromMetaKey key: String) -> String? {
        guard key.hasPrefix("seckill:{"), key.hasSuffix("}") else { return nil }
        let inner = key.dropFirst("seckill:{".count).dropLast()
        guard !inner.isEmpty, !inner.contains("{"), !inner.contains("}") else { return nil }
        return String(inner)
    }
}

/// Checks of the ids and numbers callers pass, made before any Redis call.
public enum SaleInput {
    /// Longest item, user or request id, in bytes.
    public static let maxIDLength = 128
    /// Most units one item may hold (keeps every count exact in Lua's doubles).
    public static let maxUnits = 1_000_000_000_000
    /// Most units one purchase may ask for.
    public static let maxQuantity = 1_000_000

    /// Item ids: 1-128 bytes, no `{`, `}` or control characters.
    public static func validateItem(_ item: String) throws(SaleError) {
        try validateID(item, what: "item id", forbidBraces: true)
    }

    /// User ids: 1-128 bytes, no control characters.
    public static func validateUser(_ user: String) throws(SaleError) {
        try validateID(user, what: "user id", forbidBraces: false)
    }

    /// Request ids: 1-128 bytes, no control characters or spaces.
    public static func validateRequestID(_ requestID: String) throws(SaleError) {
        try validateID(requestID, what: "request id", forbidBraces: false)
        if requestID.utf8.contains(UInt8(ascii: " ")) {
            throw SaleError.invalidInput("request id \(quoted(requestID)) must not contain spaces")
        }
    }

    /// Order ids are the stream entry ids Redis gives: `MILLISECONDS-SEQUENCE`.
    public static func validateOrder(_ order: String) throws(SaleError) {
        let parts = order.split(separator: "-", omittingEmptySubsequences: false)
        // Both numbers must fit 64 bits, as Redis stream ids do; larger ones would reach Redis
        // and fail there as a script error.
        guard parts.count == 2, parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } && UInt64($0) != nil }) else {
            throw SaleError.invalidInput("order id \(quoted(order)) is not of the form MILLISECONDS-SEQUENCE (e.g. 1763740800000-0)")
        }
    }

    static func validateID(_ id: String, what: String, forbidBraces: Bool) throws(SaleError) {
        let bytes = id.utf8
        if bytes.isEmpty { throw SaleError.invalidInput("\(what) must not be empty") }
        if bytes.count > maxIDLength {
            throw SaleError.invalidInput("\(what) is \(bytes.count) bytes long; the most is \(maxIDLength)")
        }
        // One pass over the contiguous bytes finds the common case clean; the loop below only
        // runs to name what is wrong.
        let clean = bytes.withContiguousStorageIfAvailable { buffer in
            buffer.allSatisfy { byte in
                byte >= 0x20 && byte != 0x7F && !(forbidBraces && (byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")))
            }
        }
        if clean == true { return }
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F {
                throw SaleError.invalidInput("\(what) \(quoted(id)) contains a control character")
            }
            if forbidBraces && (byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")) {
                throw SaleError.invalidInput("\(what) \(quoted(id)) must not contain { or } (they delimit the hash tag)")
            }
        }
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
