import Synchronization

/// What a coordinator knows of the items with payment deadlines: the items of the registry
/// (`seckill:pay-items`) it has resolved to their deadlines sets (one per plain item, one per
/// bucket), and when each set comes due next, from the last release script's answer. A sweep
/// runs the release script only on the sets whose next deadline has passed, so its cost follows
/// the orders coming due rather than the number of items.
final class PaymentSweepState: Sendable {
    /// One deadlines set: a plain item's, or one bucket's.
    struct Target: Sendable, Hashable {
        /// The item id.
        var item: String
        /// The keys of the item or bucket.
        var keys: ItemKeys
        /// The bucket index, nil for a plain item.
        var bucket: Int?

        /// `ITEM` or `ITEM bucket j`, for reports.
        var name: String { bucket.map { "\(item) bucket \($0)" } ?? item }
    }

    private struct State {
        /// Resolved items and their deadlines sets.
        var items: [String: [Target]] = [:]
        /// Items to resolve before the next sweep (new in the registry, republished, ...).
        var unresolved: Set<String> = []
        /// Next deadline (unix ms) of each set, by its item hash key; absent: sweep it now.
        var nextDue: [String: Int64] = [:]
        /// When the registry was last read.
        var registryReadAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    /// Whether the registry should be read again (never read, or read longer than `refresh` ago).
    func needsRegistry(now: ContinuousClock.Instant, refresh: Duration) -> Bool {
        state.withLock { state in state.registryReadAt.map { now - $0 >= refresh } ?? true }
    }

    /// The registry as read at `instant`: items new to it are resolved before the next sweep,
    /// items gone from it are forgotten.
    func registryRead(_ items: Set<String>, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            state.registryReadAt = instant
            for item in Array(state.items.keys) where !items.contains(item) {
                for target in state.items[item] ?? [] { state.nextDue[target.keys.meta] = nil }
                state.items[item] = nil
            }
            state.unresolved = state.unresolved.intersection(items)
            for item in items where state.items[item] == nil { state.unresolved.insert(item) }
        }
    }

    /// Marks `item` to be resolved again before the next sweep (published, republished).
    func add(_ item: String) {
        state.withLock { state in
            for target in state.items[item] ?? [] { state.nextDue[target.keys.meta] = nil }
            state.items[item] = nil
            state.unresolved.insert(item)
        }
    }

    /// Forgets `item` (unpublished, published without a deadline).
    func remove(_ item: String) {
        state.withLock { state in
            for target in state.items[item] ?? [] { state.nextDue[target.keys.meta] = nil }
            state.items[item] = nil
            state.unresolved.remove(item)
        }
    }

    /// The items to resolve.
    func unresolvedItems() -> [String] { state.withLock { $0.unresolved.sorted() } }

    /// Records the deadlines sets of `item`; each is swept at the next sweep.
    func resolve(_ item: String, targets: [Target]) {
        state.withLock { state in
            state.unresolved.remove(item)
            state.items[item] = targets
        }
    }

    /// The sets whose next deadline is at or before `nowMs`, except those in `excluding`.
    func dueTargets(nowMs: Int64, excluding: Set<String>) -> [Target] {
        state.withLock { state in
            state.items.values.flatMap { $0 }.filter { target in
                !excluding.contains(target.keys.meta) && (state.nextDue[target.keys.meta] ?? Int64.min) <= nowMs
            }
        }
    }

    /// Records the next deadline of `target`, as its release script answered.
    func record(_ target: Target, next: Int64) {
        state.withLock { $0.nextDue[target.keys.meta] = next }
    }

    /// The next deadline known for `target` (nil: unknown, swept at the next sweep).
    func nextDue(_ target: Target) -> Int64? { state.withLock { $0.nextDue[target.keys.meta] } }

    /// Deadlines sets known.
    var targetCount: Int { state.withLock { $0.items.values.reduce(0) { $0 + $1.count } } }
}
