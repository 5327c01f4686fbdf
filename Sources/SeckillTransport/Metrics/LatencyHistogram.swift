import Synchronization

/// Latencies counted in fixed buckets (microseconds, roughly 1-2-5 steps from 50 us to 10 s),
/// cheap enough to record every command: two relaxed atomic additions, no lock, so callers on
/// many threads do not queue behind each other for their node's counters.
///
/// Quantiles are read from the buckets, so they are upper bounds within one bucket's width
/// (for example p99 "2.0 ms" means the 99th percentile is in (1 ms, 2 ms]). A snapshot's count
/// is the sum of its buckets, so the two always agree; its sum may miss a latency being
/// recorded at that moment.
public final class LatencyHistogram: Sendable {
    /// The buckets' upper bounds in microseconds; a last, unbounded bucket follows them.
    public static let boundsMicros: [Int] = [
        50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
        2_000_000, 5_000_000, 10_000_000,
    ]

    private let buckets = AtomicCounters(count: boundsMicros.count + 1)
    private let sum = Atomic<Int>(0)

    /// Creates an empty histogram.
    public init() {}

    /// Counts `count` latencies of `micros` microseconds each (a pipeline's commands share one).
    ///
    /// - Parameters:
    ///   - micros: The latency in microseconds (negative values count as 0).
    ///   - count: How many commands took it.
    public func record(micros: Int, count: Int = 1) {
        guard count > 0 else { return }
        let value = max(0, micros)
        // Few buckets: a linear scan beats a binary search on this size.
        var index = 0
        let bounds = Self.boundsMicros
        while index < bounds.count && value > bounds[index] { index += 1 }
        buckets.add(count, at: index)
        sum.wrappingAdd(value &* count, ordering: .relaxed)
    }

    /// Counts `count` latencies given as a `Duration`.
    public func record(_ duration: Duration, count: Int = 1) {
        let (seconds, attoseconds) = duration.components
        record(micros: Int(seconds) * 1_000_000 + Int(attoseconds / 1_000_000_000_000), count: count)
    }

    /// The counts so far.
    public var snapshot: Snapshot {
        let counts = buckets.values
        return Snapshot(buckets: counts, sumMicros: sum.load(ordering: .relaxed), count: counts.reduce(0, +))
    }

    /// A copy of a histogram's counts.
    public struct Snapshot: Sendable, Hashable {
        /// Latencies per bucket (not cumulative); the last bucket is above every bound.
        public var buckets: [Int]
        /// The sum of all latencies, in microseconds.
        public var sumMicros: Int
        /// How many latencies were counted.
        public var count: Int

        /// An empty snapshot.
        public static let empty = Snapshot(
            buckets: [Int](repeating: 0, count: LatencyHistogram.boundsMicros.count + 1), sumMicros: 0, count: 0)

        /// The upper bound, in microseconds, of the bucket holding quantile `q` (0...1); nil
        /// when nothing was counted, `Int.max` when it is in the unbounded bucket.
        public func quantileMicros(_ q: Double) -> Int? {
            guard count > 0 else { return nil }
            let rank = max(1, Int((q * Double(count)).rounded(.up)))
            var seen = 0
            for (index, bucket) in buckets.enumerated() {
                seen += bucket
                if seen >= rank { return index < LatencyHistogram.boundsMicros.count ? LatencyHistogram.boundsMicros[index] : Int.max }
            }
            return Int.max
        }

        /// Both snapshots' counts added (for a total over nodes).
        public static func + (lhs: Snapshot, rhs: Snapshot) -> Snapshot {
            Snapshot(buckets: zip(lhs.buckets, rhs.buckets).map(+), sumMicros: lhs.sumMicros + rhs.sumMicros, count: lhs.count + rhs.count)
        }
    }
}
