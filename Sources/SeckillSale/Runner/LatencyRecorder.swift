import SeckillTransport
import Synchronization

/// The latencies of a sale run, counted in fixed buckets shared by every shopper: memory stays
/// at 16 KiB however many attempts the run makes (keeping every latency cost 4 bytes per
/// attempt, twice over when they were merged and sorted at the end).
///
/// Buckets are exact below 128 us and then 64 to each power of two, so a quantile read from
/// them is at most 1/64 (1.6%) above the true value: a bucket is reported by its upper bound,
/// capped at the largest latency seen, which is exact.
final class LatencyRecorder: Sendable {
    /// Bucket index bits below a value's leading one: 64 buckets per power of two.
    private static let precisionBits = 6
    /// Values below this are their own bucket.
    private static let linearLimit: UInt64 = 2 << precisionBits
    /// Latencies at or above 2^36 us (19 hours) share the last bucket.
    private static let largest: UInt64 = (1 << 36) - 1
    static let bucketCount = index(of: largest) + 1

    private let buckets = AtomicCounters(count: bucketCount)
    private let maximum = Atomic<UInt64>(0)

    /// Counts one latency of `micros` microseconds.
    func record(micros: UInt64) {
        let value = min(micros, Self.largest)
        buckets.add(1, at: Self.index(of: value))
        var seen = maximum.load(ordering: .relaxed)
        while value > seen {
            let (exchanged, current) = maximum.compareExchange(expected: seen, desired: value, ordering: .relaxed)
            if exchanged { break }
            seen = current
        }
    }

    /// The latencies counted so far, for reading quantiles.
    var snapshot: Snapshot {
        Snapshot(
            counts: buckets.values.map { UInt64($0) },
            maximum: maximum.load(ordering: .relaxed))
    }

    /// Counts read from a ``LatencyRecorder``.
    struct Snapshot {
        /// Latencies per bucket.
        let counts: [UInt64]
        /// The largest latency counted, in microseconds.
        let maximum: UInt64

        /// How many latencies were counted.
        var count: UInt64 { counts.reduce(0, &+) }

        /// The latency, in microseconds, of the attempt at position `Int(count * q)` (from 0)
        /// in ascending order: the upper bound of its bucket, at most ``maximum``; 0 when
        /// nothing was counted.
        func quantileMicros(_ q: Double) -> UInt64 {
            let total = count
            guard total > 0 else { return 0 }
            let rank = min(total, UInt64(Double(total) * min(max(q, 0), 1)) + 1)
            var seen: UInt64 = 0
            for (index, bucketCount) in counts.enumerated() {
                seen += bucketCount
                if seen >= rank { return min(LatencyRecorder.upperBound(of: index), maximum) }
            }
            return maximum
        }
    }

    /// The bucket of `value` (at most ``largest``).
    static func index(of value: UInt64) -> Int {
        if value < linearLimit { return Int(value) }
        let shift = UInt64(63 - value.leadingZeroBitCount - precisionBits)
        // value >> shift is in 64..<128: the bucket's place within its power of two.
        return Int(linearLimit) + Int(shift - 1) << precisionBits + Int((value >> shift) - (linearLimit >> 1))
    }

    /// The largest value in bucket `index`.
    static func upperBound(of index: Int) -> UInt64 {
        if index < Int(linearLimit) { return UInt64(index) }
        let offset = index - Int(linearLimit)
        let shift = UInt64(offset >> precisionBits) + 1
        let mantissa = UInt64(offset & ((1 << precisionBits) - 1)) + (linearLimit >> 1)
        return ((mantissa + 1) << shift) - 1
    }
}
