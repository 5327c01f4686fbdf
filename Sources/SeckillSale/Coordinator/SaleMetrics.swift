import SeckillTransport
import Synchronization

/// What a coordinator's purchases did, counted as they return; read with ``snapshot``.
///
/// Every answer is counted with relaxed atomic additions, no lock: the coordinator's callers,
/// on however many threads, would otherwise all queue for one lock at every purchase. Errors
/// are rare and counted by name under a lock. A snapshot reads each counter once, so one taken
/// while purchases return may see one counter a purchase ahead of another.
public final class SaleMetrics: Sendable {
    /// Answers by kind, indexed like ``PurchaseResult/kinds``.
    private let results = AtomicCounters(count: PurchaseResult.kinds.count)
    private let shed = Atomic<Int>(0)
    private let replicated = Atomic<Int>(0)
    private let notReplicated = Atomic<Int>(0)
    private let errors = Mutex<[String: Int]>([:])

    /// Creates empty counters.
    public init() {}

    func record(_ receipt: PurchaseReceipt) {
        results.add(1, at: receipt.result.kindIndex)
        if receipt.shed { shed.wrappingAdd(1, ordering: .relaxed) }
        if receipt.replicasRequired > 0 && !receipt.shed {
            if receipt.isReplicated {
                replicated.wrappingAdd(1, ordering: .relaxed)
            } else {
                notReplicated.wrappingAdd(1, ordering: .relaxed)
            }
        }
    }

    func record(_ error: SaleError) {
        errors.withLock { $0["\(error.code)", default: 0] += 1 }
    }

    /// Attempts answered "sold out" in process so far.
    public var shedAnswers: Int { shed.load(ordering: .relaxed) }

    /// The counts so far.
    public var snapshot: Snapshot {
        Snapshot(
            results: Dictionary(uniqueKeysWithValues: zip(PurchaseResult.kinds, results.values)), errors: errors.withLock { $0 },
            shedAnswers: shed.load(ordering: .relaxed), replicated: replicated.load(ordering: .relaxed),
            notReplicated: notReplicated.load(ordering: .relaxed))
    }

    /// A coordinator's purchase counts at one moment.
    public struct Snapshot: Sendable, Hashable {
        /// Answered attempts by result kind (``PurchaseResult/kinds``), shed answers included.
        public var results: [String: Int]
        /// Failed attempts by ``SaleError/Code`` name (`outcomeUnknown`, `redis`, `invalidInput`, ...).
        public var errors: [String: Int]
        /// Attempts answered "sold out" in process, without Redis.
        public var shedAnswers: Int
        /// Purchases whose `WAIT` reached the replicas asked for.
        public var replicated: Int
        /// Purchases whose `WAIT` timed out short of them (or was skipped for lack of replicas).
        public var notReplicated: Int

        /// Creates a snapshot.
        public init(results: [String: Int], errors: [String: Int], shedAnswers: Int, replicated: Int, notReplicated: Int) {
            self.results = results
            self.errors = errors
            self.shedAnswers = shedAnswers
            self.replicated = replicated
            self.notReplicated = notReplicated
        }

        /// Attempts that ended with an answer or an error.
        public var attempts: Int { results.values.reduce(0, +) + errors.values.reduce(0, +) }
        /// Errors whose outcome is unknown (the purchase may have been applied).
        public var outcomeUnknown: Int { errors["outcomeUnknown"] ?? 0 }
    }
}
