/// The answer to a purchase attempt.
public enum PurchaseResult: Sendable, Hashable {
    /// Bought: the order id (its entry in the item's orders stream) and the units left.
    case purchased(order: String, remaining: Int)
    /// Not enough units left for the quantity asked (`remaining` is 0 when sold out).
    case soldOut(remaining: Int)
    /// The user already holds `held` units and the purchase would exceed the per-user limit.
    case limitReached(held: Int)
    /// The sale opens at `startsAtMs` (unix milliseconds).
    case notStarted(startsAtMs: Int64)
    /// The sale closed at `endsAtMs` (unix milliseconds).
    case ended(endsAtMs: Int64)
    /// No item with this id was published.
    case unknownItem

    /// The short names of the result kinds, in the order of ``kindIndex``.
    public static let kinds = ["purchased", "soldOut", "limitReached", "notStarted", "ended", "unknownItem"]

    /// The position of this result's kind in ``kinds`` (for counting without string keys).
    public var kindIndex: Int {
        switch self {
        case .purchased: 0
        case .soldOut: 1
        case .limitReached: 2
        case .notStarted: 3
        case .ended: 4
        case .unknownItem: 5
        }
    }

    /// A short name for reports: `purchased`, `soldOut`, `limitReached`, `notStarted`, `ended`, `unknownItem`.
    public var kind: String { Self.kinds[kindIndex] }
}

/// The answer to a cancellation.
public enum CancelResult: Sendable, Hashable {
    /// The order's units went back to stock and to the user's allowance.
    case cancelled(cancellation: String, user: String, quantity: Int)
    /// The order was cancelled before; nothing changed this time.
    case alreadyCancelled(cancellation: String, user: String, quantity: Int)
    /// The order was released at its payment deadline (its units went back then); nothing
    /// changed this time.
    case released(release: String, user: String, quantity: Int)
    /// The item has no purchase with this order id.
    case unknownOrder
    /// No item with this id was published.
    case unknownItem
}

/// The answer to a publish.
public enum PublishResult: Sendable, Hashable {
    /// Published; `epoch` counts publishes and restocks of the item.
    case published(epoch: Int)
}

/// The answer to a restock.
public enum RestockResult: Sendable, Hashable {
    /// Units added: the new total, the units now left, and the new epoch.
    case restocked(total: Int, remaining: Int, epoch: Int)
    /// No item with this id was published.
    case unknownItem
}

/// When an item may be bought, in unix milliseconds; nil means open on that side.
public struct SaleWindow: Sendable, Hashable {
    /// The first moment purchases are accepted.
    public var startsAtMs: Int64?
    /// The moment purchases stop being accepted.
    public var endsAtMs: Int64?

    /// Creates a window.
    public init(startsAtMs: Int64? = nil, endsAtMs: Int64? = nil) {
        self.startsAtMs = startsAtMs
        self.endsAtMs = endsAtMs
    }
}

/// One item's counters as stored.
public struct ItemStatus: Sendable, Hashable {
    /// The item id.
    public var item: String
    /// Units published, restocks included.
    public var total: Int
    /// Units sold, net of cancellations.
    public var sold: Int
    /// Units per user, 0 for no limit.
    public var limit: Int
    /// The sale window.
    public var window: SaleWindow
    /// Bumped by every publish, restock and cancellation.
    public var epoch: Int
    /// Users holding at least one unit.
    public var buyers: Int
    /// The node that owns the item (a bucketed item's root hash).
    public var node: String
    /// A bucketed item's buckets, empty for a plain item.
    public var buckets: [BucketStatus] = []

    /// Units left.
    public var remaining: Int { total - sold }
}

/// One page of an item's buyers.
public struct BuyersPage: Sendable, Hashable {
    /// User id and units held.
    public var buyers: [(user: String, units: Int)]
    /// The cursor for the next page, nil when this was the last.
    public var next: String?

    public static func == (lhs: BuyersPage, rhs: BuyersPage) -> Bool {
        lhs.next == rhs.next && lhs.buyers.elementsEqual(rhs.buyers) { $0.user == $1.user && $0.units == $1.units }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(next)
        for buyer in buyers {
            hasher.combine(buyer.user)
            hasher.combine(buyer.units)
        }
    }
}

/// A purchase's answer with its request id and, when durability is on, the replicas that
/// had it when the call returned.
public struct PurchaseReceipt: Sendable, Hashable {
    /// The answer.
    public var result: PurchaseResult
    /// The request id the purchase was sent with (repeat it to get the same answer).
    public var requestID: String
    /// Replicas that acknowledged the write (`WAIT`'s answer), nil when durability is off.
    public var replicasAcknowledged: Int?
    /// The replicas the durability setting asks for (0 when off).
    public var replicasRequired: Int
    /// True when the answer came from the in-process sold-out cache, without Redis.
    public var shed: Bool = false
    /// True when Redis answered from the request id's record: an earlier call with this id
    /// bought, and this one changed nothing. With durability on, ``replicasAcknowledged``
    /// still counts replicas that have the original purchase (the replay writes the record
    /// again before `WAIT`, so `WAIT` cannot return early on a fresh connection).
    public var replayed: Bool = false

    /// True when durability is off, or the required replicas acknowledged in time.
    public var isReplicated: Bool { replicasRequired == 0 || (replicasAcknowledged ?? 0) >= replicasRequired }
}
