/// Splits the 16384 hash slots into contiguous ranges, one per node.
public enum SlotAllocator {
    /// Splits 0-16383 into `count` contiguous, nearly equal ranges, exactly like
    /// `redis-cli --cluster create`: with `perNode = 16384.0 / count` and a floating
    /// cursor, node `i` ends at `lround(cursor + perNode - 1)` and the last node ends at
    /// 16383. Three nodes get 0-5460, 5461-10922, 10923-16383.
    ///
    /// - Parameter count: The number of nodes, 1...16384.
    /// - Returns: `count` ranges in slot order.
    public static func evenSlotRanges(count: Int) -> [ClosedRange<Int>] {
        precondition((1...HashSlot.count).contains(count), "evenSlotRanges(count:) needs 1...16384 nodes, got \(count)")
        let perNode = Double(HashSlot.count) / Double(count)
        var cursor = 0.0
        var first = 0
        var ranges: [ClosedRange<Int>] = []
        ranges.reserveCapacity(count)
        for index in 0..<count {
            var last = Int((cursor + perNode - 1).rounded(.toNearestOrAwayFromZero))
            if last > HashSlot.count - 1 || index == count - 1 {
                last = HashSlot.count - 1
            }
            if last < first {
                last = first
            }
            ranges.append(first...last)
            first = last + 1
            cursor += perNode
        }
        return ranges
    }

    /// Splits 0-16383 into contiguous ranges proportional to `weights`, e.g. `[50, 30, 20]`
    /// for an uneven cluster. Every node gets at least one slot.
    ///
    /// - Parameter weights: One positive, finite weight per node; 1...16384 of them.
    /// - Returns: One range per weight, in slot order.
    public static func weightedSlotRanges(weights: [Double]) -> [ClosedRange<Int>] {
        precondition(
            (1...HashSlot.count).contains(weights.count), "weightedSlotRanges(weights:) needs 1...16384 weights, got \(weights.count)")
        precondition(weights.allSatisfy { $0 > 0 && $0.isFinite }, "weightedSlotRanges(weights:) needs positive, finite weights")
        let total = weights.reduce(0, +)
        var cumulative = 0.0
        var first = 0
        var ranges: [ClosedRange<Int>] = []
        for (index, weight) in weights.enumerated() {
            cumulative += weight
            let remainingNodes = weights.count - 1 - index
            var last = Int((cumulative / total * Double(HashSlot.count)).rounded(.toNearestOrAwayFromZero)) - 1
            if index == weights.count - 1 {
                last = HashSlot.count - 1
            }
            last = min(max(last, first), HashSlot.count - 1 - remainingNodes)
            ranges.append(first...last)
            first = last + 1
        }
        return ranges
    }
}
