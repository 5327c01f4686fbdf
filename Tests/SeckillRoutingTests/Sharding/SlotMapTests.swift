import SeckillRouting
import Testing

@Suite("SlotMap")
struct SlotMapTests {
    private let config = ClusterConfig(nodes: threeNodes([0...5460], [5461...10922], [10923...16383]))

    @Test("keys route to the node owning their slot")
    func routesKeys() {
        let map = SlotMap(config: config)
        #expect(map.node(forKey: "foo").name == "node-c")
        #expect(map.node(forKey: "bar").name == "node-a")
        #expect(map.node(forKey: Array("foo".utf8)).name == "node-c")
        #expect(map.nodeIndex(for: HashSlot(5460)!) == 0)
        #expect(map.nodeIndex(for: HashSlot(5461)!) == 1)
        #expect(map.node(for: HashSlot(16383)!).port == 7002)
        #expect(map.nodeIndex(forKey: "{user1000}.following") == map.nodeIndex(forKey: "{user1000}.followers"))
    }

    @Test("slot counts, ranges and shares per node")
    func perNodeFigures() {
        let map = SlotMap(config: config)
        #expect((0..<3).map(map.slotCount(ofNode:)) == [5461, 5462, 5461])
        #expect(map.ranges(ofNode: 1) == [5461...10922])
        #expect(abs(map.share(ofNode: 0) - 5461.0 / 16384) < 1e-12)
        #expect((0..<3).map(map.share(ofNode:)).reduce(0, +) == 1)
    }

    @Test("explicit ranges are merged per node and replace the nodes' own slots")
    func explicitRanges() throws {
        let nodes = threeNodes([], [], [])
        let map = try SlotMap(
            nodes: nodes,
            ranges: [
                (slots: 0...99, node: 0), (slots: 100...199, node: 1), (slots: 200...299, node: 0),
                (slots: 300...399, node: 0), (slots: 400...16383, node: 2),
            ])
        #expect(map.ranges(ofNode: 0) == [0...99, 200...399])
        #expect(map.nodes[0].slots == [0...99, 200...399])
        #expect(map.slotCount(ofNode: 0) == 300)
        #expect(map.slotCount(ofNode: 1) == 100)
        #expect(map.node(for: HashSlot(250)!).name == "node-a")
    }

    @Test("a node may own no slots in a topology map")
    func nodeWithoutSlots() throws {
        let map = try SlotMap(nodes: threeNodes([0...16383], [], []))
        #expect(map.slotCount(ofNode: 1) == 0)
        #expect(map.ranges(ofNode: 2).isEmpty)
        #expect(map.share(ofNode: 0) == 1)
    }

    @Test("gaps, overlaps, bad slots and bad node indexes are rejected")
    func rejectsBadMaps() {
        #expect(throws: ConfigError.self) { try SlotMap(nodes: threeNodes([0...5000], [5461...10922], [10923...16383])) }
        do {
            _ = try SlotMap(nodes: threeNodes([0...6000], [5461...10922], [10923...16383]), source: "CLUSTER SHARDS")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems == ["CLUSTER SHARDS: slots 5461-6000 are assigned to both node-a and node-b"])
        }
        do {
            _ = try SlotMap(nodes: threeNodes([], [], []), ranges: [(slots: 0...16384, node: 0), (slots: 0...10, node: 3)])
            Issue.record("expected an error")
        } catch {
            #expect(
                error.problems == [
                    "slot map: slots 0-16384 of node-a are outside 0-16383",
                    "slot map: slots 0-10 name node index 3, but there are 3 nodes",
                ])
        }
        #expect(throws: ConfigError.self) { try SlotMap(nodes: []) }
    }

    @Test("maps with the same assignment are equal")
    func equality() throws {
        let fromConfig = SlotMap(config: config)
        let fromRanges = try SlotMap(
            nodes: threeNodes([], [], []),
            ranges: [
                (slots: 10923...16383, node: 2), (slots: 0...5460, node: 0), (slots: 5461...10922, node: 1),
            ])
        #expect(fromConfig == fromRanges)
    }
}
