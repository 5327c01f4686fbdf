import SeckillRESP
import SeckillRouting
import SeckillTestSupport
import Testing

extension ClusterTests {
    /// `ClusterTopology` against the replies of a live cluster.
    @Suite struct ClusterTopologyLiveTests {
        @Test func shardsAndSlotsRepliesGiveTheSameSlotMapAsTheCluster() async throws {
            let harness = try await ClusterHarness.start()
            let client = harness.client
            let seed = try #require(harness.cluster.running.first)
            let pool = client.pool(for: client.nodes[0])
            // CLUSTER SLOTS hides a replica until the others have heard, by gossip, that it
            // replicated something; a write on every primary gets there.
            for node in client.nodes {
                let key = try #require((0..<10_000).lazy.map { "warm-\($0)" }.first { client.router.node(forKey: $0).name == node.name })
                _ = try await client.send(RESPCommand("SET", key, "1"), key: key)
            }
            var slots = try ClusterTopology.parseSlots(try await pool.send(RESPCommand("CLUSTER", "SLOTS")))
            let listed = await harness.eventually {
                slots = (try? ClusterTopology.parseSlots(try await pool.send(RESPCommand("CLUSTER", "SLOTS")))) ?? slots
                return slots.allNodes.count == 6
            }
            #expect(listed, "CLUSTER SLOTS named \(slots.allNodes.count) of 6 nodes")
            let shards = try ClusterTopology.parseShards(try await pool.send(RESPCommand("CLUSTER", "SHARDS")))
            let fromShards = try shards.slotMap(previous: nil)
            let fromSlots = try slots.slotMap(previous: nil)

            // The owner of each slot as CLUSTER NODES reports it.
            let view = try await harness.cluster.nodes(seenBy: seed)
            var expected = [String](repeating: "", count: HashSlot.count)
            for node in view where node.isPrimary {
                for range in node.slots { for slot in range { expected[slot] = "127.0.0.1:\(node.port)" } }
            }
            var mismatches: [String] = []
            for value in 0..<HashSlot.count {
                let slot = try #require(HashSlot(value))
                let a = fromShards.node(for: slot).name
                let b = fromSlots.node(for: slot).name
                if a != expected[value] || b != expected[value] {
                    mismatches.append("slot \(value): shards \(a), slots \(b), cluster \(expected[value])")
                }
            }
            #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
            #expect(fromShards.nodes.count == 3)
            #expect(Set(fromShards.nodes.map(\.name)) == Set(fromSlots.nodes.map(\.name)))
            for index in fromShards.nodes.indices {
                let name = fromShards.nodes[index].name
                let other = try #require(fromSlots.nodes.firstIndex { $0.name == name })
                #expect(fromShards.ranges(ofNode: index) == fromSlots.ranges(ofNode: other))
            }
            // Both name every node with its id and role, as CLUSTER NODES does.
            let expectedNodes = Set(view.map { "127.0.0.1:\($0.port) \($0.id) \($0.isPrimary)" })
            #expect(Set(shards.allNodes.map { "\($0.address) \($0.id) \($0.isPrimary)" }) == expectedNodes)
            #expect(Set(slots.allNodes.map { "\($0.address) \($0.id) \($0.isPrimary)" }) == expectedNodes)
            #expect(shards.shards.allSatisfy { $0.replicas.count == 1 })
            // The client discovered the same map.
            #expect(Set(client.router.map.nodes.map(\.name)) == Set(fromShards.nodes.map(\.name)))
            for value in stride(from: 0, to: HashSlot.count, by: 97) {
                let slot = try #require(HashSlot(value))
                #expect(client.router.node(for: slot).name == expected[value])
            }
        }
    }
}
