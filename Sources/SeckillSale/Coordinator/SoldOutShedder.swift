import Synchronization

/// Answers "sold out" in process for items Redis recently reported sold out, so the end of a
/// sale (most items gone, demand still high) costs no round trips.
///
/// An item enters when a purchase returns `soldOut(remaining: 0)`. For ``recheck`` after that
/// answer every purchase of the item without a caller-supplied request id is shed; after it,
/// the next such purchase goes to Redis as a probe (the others keep being shed while it is in
/// flight) and its answer either confirms the item sold out for another interval or removes
/// it. A restock, publish or cancel through this coordinator removes the item at once; one
/// made elsewhere is seen within ``recheck`` plus one round trip. Purchases that carry a
/// request id are never shed, so a request id always gets the answer Redis recorded.
final class SoldOutShedder: Sendable {
    private struct Entry {
        var confirmedAt: ContinuousClock.Instant
        var probing: Bool
    }

    /// How long a sold-out answer is trusted before Redis is asked again.
    let recheck: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(recheck: Duration) { self.recheck = recheck }

    /// True when the purchase may be answered "sold out" without Redis; false means send it
    /// (and, when it is the probe, report its answer with ``record(_:soldOut:)``).
    func shouldShed(_ item: String) -> Bool {
        entries.withLock { entries in
            guard var entry = entries[item] else { return false }
            // The clock is read only for items being shed, not on every purchase.
            if entry.probing || ContinuousClock.now - entry.confirmedAt < recheck { return true }
            entry.probing = true
            entries[item] = entry
            return false
        }
    }

    /// Records what Redis answered for `item`.
    func record(_ item: String, soldOut: Bool) {
        if soldOut {
            let now = ContinuousClock.now
            entries.withLock { $0[item] = Entry(confirmedAt: now, probing: false) }
        } else {
            entries.withLock { entries in
                if !entries.isEmpty { entries[item] = nil }
            }
        }
    }

    /// A probe failed: let the next purchase probe again.
    func probeFailed(_ item: String) {
        entries.withLock { entries in entries[item]?.probing = false }
    }

    /// Forgets `item` (its stock changed through this coordinator).
    func forget(_ item: String) {
        _ = entries.withLock { $0.removeValue(forKey: item) }
    }

    /// Items currently shed.
    var count: Int { entries.withLock { $0.count } }
}
