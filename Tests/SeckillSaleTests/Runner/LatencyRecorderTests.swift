import Testing

@testable import SeckillSale

@Suite("A sale run's latency buckets")
struct LatencyRecorderTests {
    @Test("every value falls in the bucket whose bounds hold it, and buckets follow each other without gaps")
    func bucketBounds() {
        var previousUpper: UInt64?
        for index in 0..<LatencyRecorder.bucketCount {
            let upper = LatencyRecorder.upperBound(of: index)
            let lower = previousUpper.map { $0 + 1 } ?? 0
            #expect(lower <= upper, "bucket \(index) is empty: \(lower)...\(upper)")
            #expect(LatencyRecorder.index(of: lower) == index, "\(lower) is not in bucket \(index)")
            #expect(LatencyRecorder.index(of: upper) == index, "\(upper) is not in bucket \(index)")
            // Exact below 128 us; above, a bucket is at most 1/64 of its lower bound wide.
            if lower >= 128 { #expect(Double(upper - lower + 1) <= Double(lower) / 64, "bucket \(index) is too wide") }
            if lower < 128 { #expect(upper == lower) }
            previousUpper = upper
        }
        #expect(previousUpper == (1 << 36) - 1)
    }

    @Test("quantiles are within 1/64 above the sorted latencies' and the maximum is exact")
    func quantilesAgainstSort() {
        var random = SeededRandom(seed: 42)
        let recorder = LatencyRecorder()
        var values: [UInt64] = []
        for _ in 0..<50_000 {
            // Mostly a few hundred microseconds, a tail up to seconds.
            let value =
                Double.random(in: 0..<1, using: &random) < 0.98
                ? UInt64.random(in: 0..<2_000, using: &random) : UInt64.random(in: 2_000..<3_000_000, using: &random)
            values.append(value)
            recorder.record(micros: value)
        }
        values.sort()
        let snapshot = recorder.snapshot
        #expect(snapshot.count == UInt64(values.count))
        #expect(snapshot.maximum == values.last)
        for q in [0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
            let exact = values[min(values.count - 1, Int(Double(values.count) * q))]
            let read = snapshot.quantileMicros(q)
            #expect(read >= exact, "q \(q): \(read) below the exact \(exact)")
            #expect(Double(read) <= Double(exact) * (1 + 1.0 / 64) + 1, "q \(q): \(read) too far above the exact \(exact)")
        }
    }

    @Test("an empty recorder reads 0; latencies beyond the last bucket count in it and keep the maximum")
    func edges() {
        let recorder = LatencyRecorder()
        #expect(recorder.snapshot.count == 0)
        #expect(recorder.snapshot.quantileMicros(0.99) == 0)
        recorder.record(micros: 0)
        recorder.record(micros: UInt64.max)
        let snapshot = recorder.snapshot
        #expect(snapshot.count == 2)
        #expect(snapshot.quantileMicros(0) == 0)
        #expect(snapshot.maximum == (1 << 36) - 1)
        #expect(snapshot.quantileMicros(1) == (1 << 36) - 1)
    }

    @Test("shoppers on several threads lose no count")
    func concurrentRecords() async {
        let recorder = LatencyRecorder()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for value in 0..<10_000 { recorder.record(micros: UInt64(value * (worker + 1))) }
                }
            }
        }
        let snapshot = recorder.snapshot
        #expect(snapshot.count == 80_000)
        #expect(snapshot.maximum == 9_999 * 8)
    }
}
