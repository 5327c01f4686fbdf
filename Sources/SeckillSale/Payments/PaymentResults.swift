/// The answer to a payment (``SaleCoordinator/pay(_:order:)``).
public enum PayResult: Sendable, Hashable {
    /// Paid now, before the deadline: `payment` is the `paid` entry in the orders stream.
    case paid(payment: String, user: String, quantity: Int)
    /// Paid before; nothing changed this time (a repeated payment, a retry after a lost reply).
    case alreadyPaid(payment: String, user: String, quantity: Int)
    /// Refused: the deadline (`dueMs`, unix ms) had passed. The order was released in the same
    /// step (`release` is the `release` entry): its units are back on sale.
    case late(release: String, user: String, quantity: Int, dueMs: Int64)
    /// Refused: the order was released at its deadline before this payment arrived.
    case released(release: String, user: String, quantity: Int)
    /// Refused: the order was cancelled (`cancellation` is the `cancel` entry).
    case cancelled(cancellation: String)
    /// The item has no unpaid, paid or released order with this id.
    case unknownOrder
    /// The item was published without a payment deadline: its orders need no payment.
    case noDeadline
    /// No item with this id was published.
    case unknownItem

    /// A short name for reports: `paid`, `alreadyPaid`, `late`, `released`, `cancelled`,
    /// `unknownOrder`, `noDeadline`, `unknownItem`.
    public var kind: String {
        switch self {
        case .paid: "paid"
        case .alreadyPaid: "alreadyPaid"
        case .late: "late"
        case .released: "released"
        case .cancelled: "cancelled"
        case .unknownOrder: "unknownOrder"
        case .noDeadline: "noDeadline"
        case .unknownItem: "unknownItem"
        }
    }
}

/// One unpaid order and its deadline (``SaleCoordinator/pendingOrders(_:limit:)``).
public struct PendingOrder: Sendable, Hashable {
    /// The order id as callers see it (a bucketed item's: `j:ENTRY`).
    public var order: String
    /// The deadline, unix ms: paid before it, or released by the first sweep after it.
    public var dueMs: Int64

    /// Creates a pending order.
    public init(order: String, dueMs: Int64) {
        self.order = order
        self.dueMs = dueMs
    }
}

/// What one sweep of the payment deadlines did (``SaleCoordinator/sweepPayments(rereadRegistry:)``).
public struct PaymentSweep: Sendable, Hashable {
    /// Orders released, by item.
    public var released: [String: Int] = [:]
    /// Release scripts run (one per item, or per bucket, whose next deadline had passed, more
    /// when one had more due orders than a script releases at once).
    public var scripts = 0
    /// Items (or buckets) with a payment deadline the sweep knows of.
    public var targets = 0
    /// Items or buckets that could not be swept, one line each (they are tried again next sweep).
    public var failures: [String] = []

    /// Orders released over all items.
    public var total: Int { released.values.reduce(0, +) }
}
