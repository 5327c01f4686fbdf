import SeckillRouting
import Testing

@Suite("DistributionReport")
struct DistributionReportTests {
    private static let evenMap = try! SlotMap(nodes: threeNodes([0...5460], [5461...10922], [10923...16383]))
    private static let unevenMap: SlotMap = {
        let ranges = SlotAllocator.weightedSlotRanges(weights: [50, 30, 20])
        return try! SlotMap(nodes: threeNodes([ranges[0]], [ranges[1]], [ranges[2]]))
    }()

    private static let patterns: [KeyPattern] = [
        .sequential,
        try! .template("{item:%d}"),
        try! .template("item:{%d}:stock"),
        .uuid(seed: 2026),
        .sku(),
    ]

    @Test("100,000 realistic keys spread over even nodes within 2 points of each node's slot share", arguments: patterns)
    func evenSpread(pattern: KeyPattern) {
        let report = DistributionReport(map: Self.evenMap, pattern: pattern, count: 100_000)
        #expect(report.keyCount == 100_000)
        #expect(report.nodes.map(\.keyCount).reduce(0, +) == 100_000)
        #expect(report.maxAbsoluteDeviation < 0.02)
        #expect(report.degreesOfFreedom == 16383)
        #expect(report.chiSquarePerDegreeOfFreedom < 1.5)
    }

    @Test("100,000 realistic keys follow an uneven 50/30/20 map within 2 points", arguments: patterns)
    func unevenSpread(pattern: KeyPattern) {
        let report = DistributionReport(map: Self.unevenMap, pattern: pattern, count: 100_000)
        #expect(abs(report.nodes[0].expectedShare - 0.5) < 0.001)
        #expect(abs(report.nodes[1].expectedShare - 0.3) < 0.001)
        #expect(abs(report.nodes[2].expectedShare - 0.2) < 0.001)
        for node in report.nodes {
            #expect(abs(node.share - node.expectedShare) < 0.02)
        }
    }

    @Test("keys sharing one hash tag pile into one slot and blow up chi-square")
    func sharedTagIsDetected() throws {
        let report = DistributionReport(map: Self.evenMap, pattern: try .template("{sale}:item:%d"), count: 10_000)
        #expect(report.occupiedSlots == 1)
        #expect(report.nodes.map(\.keyCount).sorted() == [0, 0, 10_000])
        #expect(report.chiSquarePerDegreeOfFreedom > 1000)
        #expect(report.chiSquareZScore > 100)
        #expect(report.maxAbsoluteDeviation > 0.6)
    }

    @Test("explicit key lists and per-slot counts give the same figures as patterns")
    func explicitKeys() {
        let keys = KeyPattern.sku().keys(count: 5000)
        let fromKeys = DistributionReport(map: Self.evenMap, keys: keys)
        let fromPattern = DistributionReport(map: Self.evenMap, pattern: .sku(), count: 5000)
        #expect(fromKeys.nodes == fromPattern.nodes)
        #expect(fromKeys.chiSquare == fromPattern.chiSquare)
    }

    @Test("chi-square is computed over the 16384 slots")
    func chiSquareByHand() {
        var perSlot = [Int](repeating: 0, count: 16384)
        perSlot[0] = 16384
        let concentrated = DistributionReport(map: Self.evenMap, keysPerSlot: perSlot)
        // Expected 1 per slot: (16384 - 1)^2 / 1 + 16383 * (0 - 1)^2 / 1.
        #expect(concentrated.chiSquare == 16383.0 * 16383.0 + 16383.0)
        let flat = DistributionReport(map: Self.evenMap, keysPerSlot: [Int](repeating: 3, count: 16384))
        #expect(flat.chiSquare == 0)
        #expect(flat.maxAbsoluteDeviation < 0.0001)
        let empty = DistributionReport(map: Self.evenMap, keysPerSlot: [Int](repeating: 0, count: 16384))
        #expect(empty.keyCount == 0 && empty.chiSquare == 0 && empty.maxAbsoluteDeviation == 0)
    }
}
