import Foundation

/// How a set of keys spreads over the nodes of a ``SlotMap`` and over the 16384 slots.
///
/// For each node: the keys it gets, that as a share of all keys, the share it should
/// get (its share of slots) and the difference. Over the slots: Pearson's chi-square
/// statistic of the per-slot key counts against a uniform `keyCount / 16384`, with
/// 16383 degrees of freedom. For uniform hashing `chiSquare / degreesOfFreedom` is close
/// to 1; much larger means keys cluster in few slots (e.g. a shared `{tag}`).
public struct DistributionReport: Sendable, CustomStringConvertible {
    /// One node's line of the report.
    public struct NodeShare: Sendable, Hashable {
        /// The node.
        public let node: NodeConfig
        /// How many keys hash to slots the node serves.
        public let keyCount: Int
        /// `keyCount / total keys`, 0...1.
        public let share: Double
        /// The node's share of slots, 0...1.
        public let expectedShare: Double

        /// `share - expectedShare`; 0.01 is one percentage point.
        public var deviation: Double {
            share - expectedShare
        }
    }

    /// How many keys were hashed.
    public let keyCount: Int
    /// One entry per node of the map, in map order.
    public let nodes: [NodeShare]
    /// The largest `abs(deviation)` over the nodes.
    public let maxAbsoluteDeviation: Double
    /// Pearson's chi-square over the 16384 slots (0 when there are no keys).
    public let chiSquare: Double
    /// Degrees of freedom of ``chiSquare``: 16383.
    public let degreesOfFreedom: Int
    /// How many slots received at least one key.
    public let occupiedSlots: Int

    /// ``chiSquare`` divided by ``degreesOfFreedom``; about 1 for uniform hashing.
    public var chiSquarePerDegreeOfFreedom: Double {
        chiSquare / Double(degreesOfFreedom)
    }

    /// How many standard deviations ``chiSquare`` lies from what uniform hashing would
    /// give (Wilson-Hilferty approximation); beyond about ±3 the spread is not uniform.
    public var chiSquareZScore: Double {
        let k = Double(degreesOfFreedom)
        let variance = 2 / (9 * k)
        return (cbrt(chiSquare / k) - (1 - variance)) / variance.squareRoot()
    }

    /// Hashes `count` keys of a pattern and reports their spread.
    ///
    /// - Parameters:
    ///   - map: The slot map.
    ///   - pattern: Generates keys `0..<count`.
    ///   - count: How many keys, 0 or more.
    public init(map: SlotMap, pattern: KeyPattern, count: Int) {
        precondition(count >= 0, "key count must not be negative")
        var perSlot = [Int](repeating: 0, count: HashSlot.count)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        for index in 0..<count {
            buffer.removeAll(keepingCapacity: true)
            pattern.appendKey(at: index, to: &buffer)
            perSlot[Int(HashSlot(key: buffer).rawValue)] += 1
        }
        self.init(map: map, keysPerSlot: perSlot)
    }

    /// Reports the spread of the given keys.
    ///
    /// - Parameters:
    ///   - map: The slot map.
    ///   - keys: The keys; their UTF-8 bytes are hashed.
    public init(map: SlotMap, keys: some Sequence<String>) {
        var perSlot = [Int](repeating: 0, count: HashSlot.count)
        for key in keys {
            perSlot[Int(HashSlot(key: key).rawValue)] += 1
        }
        self.init(map: map, keysPerSlot: perSlot)
    }

    /// Reports the spread of precomputed per-slot key counts.
    ///
    /// - Parameters:
    ///   - map: The slot map.
    ///   - keysPerSlot: Key count of each slot; exactly 16384 entries.
    public init(map: SlotMap, keysPerSlot: [Int]) {
        precondition(keysPerSlot.count == HashSlot.count, "keysPerSlot needs one count per slot")
        var perNode = [Int](repeating: 0, count: map.nodes.count)
        var total = 0
        var sumOfSquares = 0.0
        var occupied = 0
        for (slot, count) in keysPerSlot.enumerated() where count > 0 {
            perNode[map.nodeIndex(for: HashSlot(unchecked: UInt16(slot)))] += count
            total += count
            sumOfSquares += Double(count) * Double(count)
            occupied += 1
        }
        let nodes = map.nodes.indices.map { index in
            NodeShare(
                node: map.nodes[index],
                keyCount: perNode[index],
                share: total == 0 ? 0 : Double(perNode[index]) / Double(total),
                expectedShare: map.share(ofNode: index)
            )
        }
        self.keyCount = total
        self.nodes = nodes
        self.maxAbsoluteDeviation = total == 0 ? 0 : nodes.map { abs($0.deviation) }.max() ?? 0
        // sum((o - e)^2 / e) == sum(o^2) / e - N, since both o and e sum to N.
        let expected = Double(total) / Double(HashSlot.count)
        self.chiSquare = total == 0 ? 0 : sumOfSquares / expected - Double(total)
        self.degreesOfFreedom = HashSlot.count - 1
        self.occupiedSlots = occupied
    }

    /// A plain-text table: one line per node, then the slot statistics.
    public var description: String {
        var lines = ["\(keyCount) keys over \(nodes.count) nodes"]
        for entry in nodes {
            lines.append(
                "  \(entry.node.name)  \(entry.keyCount) keys  \(Self.percent(entry.share)) (expected \(Self.percent(entry.expectedShare)), deviation \(Self.points(entry.deviation)))"
            )
        }
        lines.append("  largest deviation \(Self.points(maxAbsoluteDeviation))")
        lines.append(
            "  chi-square \(Self.fixed(chiSquare, digits: 1)) with \(degreesOfFreedom) degrees of freedom (ratio \(Self.fixed(chiSquarePerDegreeOfFreedom, digits: 3)), z \(Self.fixed(chiSquareZScore, digits: 2))), \(occupiedSlots) of \(HashSlot.count) slots used"
        )
        return lines.joined(separator: "\n")
    }

    private static func percent(_ fraction: Double) -> String {
        fixed(fraction * 100, digits: 2) + "%"
    }

    private static func points(_ fraction: Double) -> String {
        (fraction >= 0 ? "+" : "") + fixed(fraction * 100, digits: 2) + " pp"
    }

    private static func fixed(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}
