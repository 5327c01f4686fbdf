/// Where the order hand-off writes orders: a service implements it for its own database
/// (``SQLiteOrderSink`` is the default). See the README, "Writing your own sink".
///
/// ``OrderConsumer`` calls ``commit(_:)`` with a batch of events of one or more items and
/// acknowledges the entries in Redis only after it returned: the sink must have made the
/// whole batch durable, atomically, before it returns. Delivery is at least once: after a
/// crash between the commit and the acknowledgement the same events come again, so applying
/// an event twice must change nothing (record each event's ``OrderEvent/stream`` and
/// ``OrderEvent/entry`` with the orders, in the same transaction, and skip those seen).
/// Events of one stream come in stream order; a sink should still not be corrupted by an
/// event that arrives before an earlier one (``OrderState/after(_:applying:)`` gives the
/// transitions that make the order irrelevant).
public protocol OrderSink: Sendable {
    /// Commits `events` atomically.
    ///
    /// - Parameter events: Events in stream order per stream; never empty.
    /// - Returns: What the batch changed.
    /// - Throws: ``OrderRejected`` to refuse one event for good (nothing of the batch kept:
    ///   the consumer commits the batch again without it and the later events of its stream,
    ///   and dead-letters it once it ran out of attempts). Anything else: nothing of the
    ///   batch may have been kept, and all of it is delivered again.
    func commit(_ events: [OrderEvent]) async throws -> OrderSinkResult
}

/// Thrown by an ``OrderSink`` that refuses one event for good (something wrong with the
/// event, not with the database): see ``OrderSink/commit(_:)``.
public struct OrderRejected: Error, Sendable, CustomStringConvertible {
    /// The event's stream.
    public var stream: String
    /// The event's entry id.
    public var entry: String
    /// Why, one line: it goes into the dead-letter stream.
    public var reason: String

    /// Refuses `event` for `reason`.
    public init(_ event: OrderEvent, reason: String) {
        stream = event.stream
        entry = event.entry
        self.reason = reason
    }

    /// The stream, entry and reason.
    public var description: String { "\(stream) \(entry) rejected: \(reason)" }
}

/// What one committed batch changed.
public struct OrderSinkResult: Sendable, Hashable {
    /// Orders the batch created.
    public var inserted = 0
    /// Orders whose state or times the batch changed.
    public var updated = 0
    /// Events that changed nothing (already applied, or an order already past that state).
    public var unchanged = 0

    /// Creates a result.
    public init(inserted: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
    }

    /// Adds another batch's counts.
    public static func += (lhs: inout OrderSinkResult, rhs: OrderSinkResult) {
        lhs.inserted += rhs.inserted
        lhs.updated += rhs.updated
        lhs.unchanged += rhs.unchanged
    }
}

/// The state of an order in a database (the `state` column of the default schema).
public enum OrderState: String, Sendable, Hashable, CaseIterable {
    /// Bought with a payment deadline, not paid yet.
    case unpaid
    /// Paid before its deadline.
    case paid
    /// Bought from an item sold without a payment deadline.
    case confirmed
    /// Cancelled: its units went back to stock.
    case cancelled
    /// Its deadline passed unpaid: its units went back to stock.
    case released

    /// The state after `event`, from `state` (nil: no row yet). The rules make the outcome
    /// independent of the order events arrive in: a purchase never moves an existing order;
    /// `paid` and `release` apply only to an unpaid order (or create it); `cancel` ends any
    /// order not released; `cancelled` and `released` are final.
    ///
    /// - Parameters:
    ///   - state: The order's state now, nil when it has no row.
    ///   - event: The event applied.
    /// - Returns: The new state.
    public static func after(_ state: OrderState?, applying event: OrderEvent) -> OrderState {
        switch (event.kind, state) {
        case (.purchase, nil): event.payBy == nil ? .confirmed : .unpaid
        case (.purchase, let state?): state
        case (.paid, nil), (.paid, .unpaid?): .paid
        case (.release, nil), (.release, .unpaid?): .released
        case (.cancel, nil), (.cancel, .unpaid?), (.cancel, .paid?), (.cancel, .confirmed?): .cancelled
        case (_, let state?): state
        }
    }
}
