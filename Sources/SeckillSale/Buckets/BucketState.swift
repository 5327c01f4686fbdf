import Synchronization

/// What a coordinator keeps in memory about bucketed items: their layouts (read once from the
/// root hash, dropped when a bucket answers "unknown item") and the refills in flight, so that
/// the purchases finding one bucket empty share one transfer.
final class BucketState: Sendable {
    private let layouts = Mutex<[String: BucketLayout]>([:])
    /// How many layouts are cached: a plain purchase reads only this atomic while it is 0.
    private let cached = Atomic<Int>(0)
    private let flights = Mutex<[String: Flight]>([:])

    /// What the purchases waiting on a bucket's refill learn.
    enum Refill: Sendable {
        /// Units were moved to the bucket (or it had some again): try the purchase again.
        case moved
        /// No other bucket had units and no transfer was pending: `remaining` units are left
        /// in the whole item, all in the refilled bucket (fewer than the waiting purchases
        /// asked for, though maybe enough for some of them).
        case empty(remaining: Int)
        /// The refill failed.
        case failed(SaleError)
    }

    private struct Flight {
        var demand: Int
        var waiters: [CheckedContinuation<Refill, Never>] = []
    }

    /// Whether any layout is cached (one atomic read: a plain sale never hashes an item here).
    var hasLayouts: Bool { cached.load(ordering: .relaxed) != 0 }

    /// The cached layout of `item`, if it is known to be bucketed.
    func layout(_ item: String) -> BucketLayout? {
        guard hasLayouts else { return nil }
        return layouts.withLock { $0[item] }
    }

    /// Caches `layout` for `item`, or forgets the item when nil.
    func store(_ item: String, _ layout: BucketLayout?) {
        let count = layouts.withLock { layouts in
            layouts[item] = layout
            return layouts.count
        }
        cached.store(count, ordering: .relaxed)
    }

    /// Runs `body` as the one refill of `bucket`, or waits for the one already running and
    /// takes its answer. `body` reads the demand (units asked for by every purchase waiting)
    /// when it decides how much to move.
    func refill(
        _ key: String, need: Int, body: (_ demand: @Sendable () -> Int) async -> Refill
    ) async -> Refill {
        let leads = flights.withLock { flights in
            if flights[key] == nil {
                flights[key] = Flight(demand: need)
                return true
            }
            return false
        }
        if !leads {
            return await withCheckedContinuation { continuation in
                let joined = flights.withLock { flights in
                    guard flights[key] != nil else { return false }
                    flights[key]!.demand += need
                    flights[key]!.waiters.append(continuation)
                    return true
                }
                // The refill ended in between: its units may be there, so try again.
                if !joined { continuation.resume(returning: .moved) }
            }
        }
        let outcome = await body { [self] in self.flights.withLock { $0[key]?.demand ?? need } }
        let waiters = flights.withLock { $0.removeValue(forKey: key)?.waiters ?? [] }
        for waiter in waiters { waiter.resume(returning: outcome) }
        return outcome
    }
}
