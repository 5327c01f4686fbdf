import SeckillTransport
import Synchronization

/// What a coordinator's purchases did, counted as they return; read with ``snapshot``.
public final class SaleMetrics: Sendable {
    private struct Counts {
        var results = [Int](repeating: 0, count: PurchaseResult.kinds.count)
        var errors: [String: Int] = [:]
        var shed = 0
        var replicated = 0
        var notReplicated = 0
    }

    private let counts = Mutex(Counts())

    /// Creates empty counters.
    public init() {}

    func record(_ receipt: PurchaseReceipt) {
        counts.withLock { counts in
            counts.results[receipt.result.kindIndex] += 1
            if receipt.shed { counts.shed += 1 }
            if receipt.replicasRequired > 0 && !receipt.shed {
                if receipt.isReplicated { counts.replicated += 1 } else { counts.notReplicated += 1 }
            }
        }
    }

    func record(_ error: SaleError) {
        counts.withLock { $0.errors["\(error.code)", default: 0] += 1 }
    }

    /// Attempts answered "sold out" in process so far.
    public var shedAnswers: Int { counts.withLock { $0.shed } }

    /// The counts so far.
    public var snapshot: Snapshot {
        counts.withLock { counts in
            Snapshot(
                results: Dictionary(uniqueKeysWithValues: zip(PurchaseResult.kinds, counts.results)), errors: counts.errors,
                shedAnswers: counts.shed, replicated: counts.replicated, notReplicated: counts.notReplicated)
        }
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
