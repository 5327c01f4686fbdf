/// Checks that slot ranges cover 0-16383 exactly once and describes every gap and
/// overlap as maximal ranges.
enum SlotCoverage {
    /// At most this many overlap messages are listed; the rest are counted.
    static let overlapMessageLimit = 50

    /// Problems without a source prefix, e.g. `slots 5461-5470 are not assigned to any node`.
    ///
    /// - Parameters:
    ///   - rangesPerNode: Each node's ranges; parts outside 0-16383 are ignored.
    ///   - labels: Each node's name for messages.
    static func problems(rangesPerNode: [[ClosedRange<Int>]], labels: [String]) -> [String] {
        let bounds = 0...(HashSlot.count - 1)
        var merged: [[ClosedRange<Int>]] = []
        var problems: [String] = []
        for (node, ranges) in rangesPerNode.enumerated() {
            let clamped = ranges.filter { $0.overlaps(bounds) }.map { $0.clamped(to: bounds) }
            let (union, repeats) = mergeWithRepeats(clamped)
            merged.append(union)
            for range in repeats {
                problems.append("\(phrase(range)) listed more than once for \(labels[node])")
            }
        }
        let (allUnion, _) = mergeWithRepeats(merged.flatMap { $0 })
        var cursor = 0
        for range in allUnion {
            if range.lowerBound > cursor {
                problems.append("\(phrase(cursor...(range.lowerBound - 1))) not assigned to any node")
            }
            cursor = range.upperBound + 1
        }
        if cursor < HashSlot.count {
            problems.append("\(phrase(cursor...(HashSlot.count - 1))) not assigned to any node")
        }
        var overlaps: [(range: ClosedRange<Int>, first: Int, second: Int)] = []
        for first in merged.indices {
            for second in merged.indices where second > first {
                for range in intersection(merged[first], merged[second]) {
                    overlaps.append((range, first, second))
                }
            }
        }
        overlaps.sort { ($0.range.lowerBound, $0.first, $0.second) < ($1.range.lowerBound, $1.first, $1.second) }
        for overlap in overlaps.prefix(overlapMessageLimit) {
            problems.append("\(phrase(overlap.range)) assigned to both \(labels[overlap.first]) and \(labels[overlap.second])")
        }
        if overlaps.count > overlapMessageLimit {
            problems.append("\(overlaps.count - overlapMessageLimit) more overlapping slot ranges not listed")
        }
        return problems
    }

    /// "slot 7 is" or "slots 7-9 are".
    private static func phrase(_ range: ClosedRange<Int>) -> String {
        range.count == 1 ? "slot \(range.lowerBound) is" : "slots \(range.lowerBound)-\(range.upperBound) are"
    }

    /// Sorts and merges ranges (adjacent ones too) and returns the slots covered twice.
    static func mergeWithRepeats(_ ranges: [ClosedRange<Int>]) -> (union: [ClosedRange<Int>], repeats: [ClosedRange<Int>]) {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var union: [ClosedRange<Int>] = []
        var repeats: [ClosedRange<Int>] = []
        for range in sorted {
            guard let last = union.last, range.lowerBound <= last.upperBound + 1 else {
                union.append(range)
                continue
            }
            if range.lowerBound <= last.upperBound {
                let repeated = range.lowerBound...min(range.upperBound, last.upperBound)
                if let previous = repeats.last, repeated.lowerBound <= previous.upperBound + 1 {
                    repeats[repeats.count - 1] = previous.lowerBound...max(previous.upperBound, repeated.upperBound)
                } else {
                    repeats.append(repeated)
                }
            }
            union[union.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
        }
        return (union, repeats)
    }

    /// The intersection of two sorted, disjoint, non-adjacent range lists.
    private static func intersection(_ a: [ClosedRange<Int>], _ b: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        var i = 0
        var j = 0
        while i < a.count, j < b.count {
            let low = max(a[i].lowerBound, b[j].lowerBound)
            let high = min(a[i].upperBound, b[j].upperBound)
            if low <= high {
                result.append(low...high)
            }
            if a[i].upperBound < b[j].upperBound { i += 1 } else { j += 1 }
        }
        return result
    }
}
