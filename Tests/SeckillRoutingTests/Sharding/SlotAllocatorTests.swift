import SeckillRouting
import Testing

@Suite("SlotAllocator")
struct SlotAllocatorTests {
    @Test("even ranges cover 0-16383 contiguously", arguments: [1, 2, 3, 4, 5, 7, 10, 100, 1000, 16383, 16384])
    func evenRangesCoverAllSlots(count: Int) {
        let ranges = SlotAllocator.evenSlotRanges(count: count)
        #expect(ranges.count == count)
        #expect(ranges.first?.lowerBound == 0)
        #expect(ranges.last?.upperBound == 16383)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound + 1 == $1.lowerBound })
        let sizes = ranges.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
    }

    @Test("three nodes get exactly what redis-cli --cluster create gives")
    func matchesRedisCliForThree() {
        #expect(SlotAllocator.evenSlotRanges(count: 3) == [0...5460, 5461...10922, 10923...16383])
    }

    @Test("other counts follow redis-cli's rounding")
    func matchesRedisCliRounding() {
        #expect(SlotAllocator.evenSlotRanges(count: 1) == [0...16383])
        #expect(SlotAllocator.evenSlotRanges(count: 2) == [0...8191, 8192...16383])
        #expect(SlotAllocator.evenSlotRanges(count: 5) == [0...3276, 3277...6553, 6554...9829, 9830...13106, 13107...16383])
        #expect(
            SlotAllocator.evenSlotRanges(count: 7) == [
                0...2340, 2341...4680, 4681...7021, 7022...9361, 9362...11702, 11703...14042, 14043...16383,
            ])
        let single = SlotAllocator.evenSlotRanges(count: 16384)
        #expect(single.allSatisfy { $0.count == 1 })
        #expect(single.enumerated().allSatisfy { $0.offset == $0.element.lowerBound })
    }

    @Test("weighted ranges follow the weights and cover every slot")
    func weightedRanges() {
        let ranges = SlotAllocator.weightedSlotRanges(weights: [50, 30, 20])
        #expect(ranges == [0...8191, 8192...13106, 13107...16383])
        let tiny = SlotAllocator.weightedSlotRanges(weights: [1_000_000, 1, 1])
        #expect(tiny.count == 3 && tiny.allSatisfy { !$0.isEmpty })
        #expect(tiny.last?.upperBound == 16383)
        #expect(zip(tiny, tiny.dropFirst()).allSatisfy { $0.upperBound + 1 == $1.lowerBound })
    }
}
