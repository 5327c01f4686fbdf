import SeckillRouting
import Testing

@Suite("SlotRouter")
struct SlotRouterTests {
    private static let evenConfig = ClusterConfig(nodes: threeNodes([0...5460], [5461...10922], [10923...16383]))

    /// A map whose nodes are all named `gen<generation>-<n>`, with `nodeCount` even ranges.
    private static func map(generation: Int, nodeCount: Int) -> SlotMap {
        let ranges = SlotAllocator.evenSlotRanges(count: nodeCount)
        let nodes = ranges.enumerated().map { index, range in
            NodeConfig(name: "gen\(generation)-\(index)", host: "10.0.\(generation).\(index)", port: 7000 + index, slots: [range])
        }
        return try! SlotMap(nodes: nodes)
    }

    @Test("routes keys and slots through the current map")
    func routes() {
        let router = SlotRouter(config: Self.evenConfig)
        #expect(router.slot(forKey: "foo").rawValue == 12182)
        #expect(router.slot(forKey: Array("bar".utf8)).rawValue == 5061)
        #expect(router.node(forKey: "foo").name == "node-c")
        #expect(router.node(forKey: Array("bar".utf8)).name == "node-a")
        #expect(router.node(for: HashSlot(6000)!).name == "node-b")
    }

    @Test("replace(with:) swaps the whole map")
    func replaces() throws {
        let router = SlotRouter(config: Self.evenConfig)
        let moved = try SlotMap(nodes: threeNodes([0...5460], [5461...10922, 12182...12182], [10923...12181, 12183...16383]))
        router.replace(with: moved)
        #expect(router.node(forKey: "foo").name == "node-b")
        #expect(router.map == moved)
    }

    @Test("group(_:by:) groups keys per node, in node order, keeping input order")
    func groupsKeys() {
        let router = SlotRouter(config: Self.evenConfig)
        let keys = ["foo", "bar", "{foo}:stock", "{bar}:stock", "baz", "{foo}:users"]
        let groups = router.group(keys)
        let expected = (0..<3).compactMap { nodeIndex -> (String, [Int])? in
            let indexes = keys.indices.filter { router.map.nodeIndex(forKey: keys[$0]) == nodeIndex }
            return indexes.isEmpty ? nil : (router.map.nodes[nodeIndex].name, indexes)
        }
        #expect(groups.map(\.node.name) == expected.map(\.0))
        #expect(groups.map(\.indexes) == expected.map(\.1))
        #expect(groups.first { $0.node.name == "node-c" }?.indexes.starts(with: [0, 2]) == true)
        #expect(groups.flatMap(\.indexes).sorted() == Array(keys.indices))

        struct Order { let item: Int }
        let orders = (0..<100).map(Order.init)
        let byBytes = router.group(orders) { Array("item:{\($0.item)}".utf8) }
        let byString = router.group(orders) { "item:{\($0.item)}" }
        #expect(byBytes.map(\.node) == byString.map(\.node))
        #expect(byBytes.map(\.indexes) == byString.map(\.indexes))
        #expect(router.group([String]()).isEmpty)
    }

    @Test("group(_:by:) passes through errors thrown by the key function")
    func groupRethrows() {
        struct Bad: Error {}
        let router = SlotRouter(config: Self.evenConfig)
        #expect(throws: Bad.self) {
            try router.group([1, 2, 3]) { (value: Int) throws(Bad) -> String in
                if value == 2 { throw Bad() }
                return "k\(value)"
            }
        }
    }

    @Test("concurrent readers only ever see complete maps while the map is replaced")
    func concurrentReplace() async {
        let generations = 40
        let maps = (0..<generations).map { Self.map(generation: $0, nodeCount: $0 % 5 + 1) }
        let router = SlotRouter(map: maps[0])
        let keys = (0..<64).map { "item:{\($0)}" }

        let torn = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                for round in 0..<400 {
                    router.replace(with: maps[round % generations])
                    await Task.yield()
                }
                return 0
            }
            for _ in 0..<4 {
                group.addTask {
                    var torn = 0
                    for _ in 0..<300 {
                        // Equal to one published map in full, never a mix of two.
                        let snapshot = router.map
                        let generation = Int(snapshot.nodes[0].name.dropFirst(3).split(separator: "-")[0])!
                        let slotTotal = snapshot.nodes.indices.map(snapshot.slotCount(ofNode:)).reduce(0, +)
                        if snapshot != maps[generation] || slotTotal != HashSlot.count {
                            torn += 1
                        }
                        let groups = router.group(keys)
                        let groupGeneration = Int(groups[0].node.name.dropFirst(3).split(separator: "-")[0])!
                        let consistent = groups.allSatisfy { group in
                            group.indexes.allSatisfy { maps[groupGeneration].node(forKey: keys[$0]) == group.node }
                        }
                        if !consistent || groups.flatMap(\.indexes).count != keys.count {
                            torn += 1
                        }
                        await Task.yield()
                    }
                    return torn
                }
            }
            return await group.reduce(0, +)
        }
        #expect(torn == 0)
    }
}
