import SeckillRouting
import Testing

@Suite("PlacementPlan")
struct PlacementPlanTests {
    /// Three nodes with the slots `redis-cli --cluster create` gives them.
    static let map: SlotMap = {
        let nodes = SlotAllocator.evenSlotRanges(count: 3).enumerated().map { index, range in
            NodeConfig(name: ClusterConfig.nodeName(at: index), host: "127.0.0.1", port: 7000 + index, slots: [range])
        }
        return try! SlotMap(nodes: nodes)
    }()

    /// `count` item ids (`prefix-N`) whose slots are served by `node` in ``map``.
    static func items(on node: Int, count: Int, prefix: String) -> [String] {
        var found: [String] = []
        var index = 0
        while found.count < count {
            let item = "\(prefix)-\(index)"
            if map.nodeIndex(for: DemandFile.slot(ofItem: item)) == node { found.append(item) }
            index += 1
        }
        return found
    }

    static func unit(_ item: String, _ share: Double, group: String? = nil) -> DemandUnit {
        DemandUnit(label: item, slot: DemandFile.slot(ofItem: item), share: share, group: group)
    }

    @Test("three hot items on one node are spread one per node: every node expects a third")
    func balancesHotItems() throws {
        let hot = Self.items(on: 0, count: 3, prefix: "hot")
        let plan = try PlacementPlan(map: Self.map, units: hot.map { Self.unit($0, 0.3) })
        #expect(abs(plan.currentLoads[0] - (0.9 + 0.1 / 3)) < 1e-3, "\(plan.currentLoads)")
        #expect(abs(plan.currentLoads.reduce(0, +) - 1) < 1e-9)
        for load in plan.plannedLoads { #expect(abs(load - 1.0 / 3) < 1e-3, "\(plan.plannedLoads)") }
        #expect(abs(plan.plannedLoads.reduce(0, +) - 1) < 1e-9)
        // Two moves, both from node-a, to different nodes; the third item stays.
        #expect(plan.moves.count == 2)
        #expect(plan.moves.allSatisfy { $0.from == 0 && $0.labels.count == 1 && hot.contains($0.labels[0]) })
        #expect(Set(plan.moves.map(\.to)) == [1, 2])
        for move in plan.moves { #expect(plan.planned.nodeIndex(for: move.slot) == move.to) }
        #expect(Set(plan.placements.map(\.nodePlanned)) == [0, 1, 2])
        // Only the moved slots changed owner.
        let moved = Set(plan.moves.map { Int($0.slot.rawValue) })
        for slot in 0..<HashSlot.count where !moved.contains(slot) {
            let value = HashSlot(slot)!
            #expect(plan.planned.nodeIndex(for: value) == Self.map.nodeIndex(for: value))
        }
    }

    @Test("the heaviest item stays put when moving it could not lower the busiest node; the lighter ones move")
    func heaviestStays() throws {
        let onA = Self.items(on: 0, count: 3, prefix: "few")
        let plan = try PlacementPlan(map: Self.map, units: [Self.unit(onA[0], 0.25), Self.unit(onA[1], 0.1), Self.unit(onA[2], 0.1)])
        // Node-a keeps the 0.25 item and its third of the 55% unlisted: 43.3%, the best possible.
        #expect(plan.moves.count == 2)
        #expect(Set(plan.moves.flatMap(\.labels)) == [onA[1], onA[2]])
        #expect(Set(plan.moves.map(\.to)) == [1, 2])
        #expect(abs(plan.plannedMaxLoad - (0.25 + 0.55 / 3)) < 1e-3, "\(plan.plannedLoads)")
    }

    @Test("a placement that is already balanced moves nothing")
    func balancedStays() throws {
        let units = (0..<3).map { Self.unit(Self.items(on: $0, count: 1, prefix: "even")[0], 0.3) }
        let plan = try PlacementPlan(map: Self.map, units: units)
        #expect(plan.moves.isEmpty)
        #expect(plan.planned == Self.map)
        #expect(plan.currentLoads == plan.plannedLoads)
        #expect(plan.placements.allSatisfy { $0.nodeNow == $0.nodePlanned })
    }

    @Test("no demand listed: nothing moves and each node expects its share of slots")
    func noDemand() throws {
        let plan = try PlacementPlan(map: Self.map, units: [])
        #expect(plan.moves.isEmpty)
        for index in 0..<3 { #expect(abs(plan.currentLoads[index] - Self.map.share(ofNode: index)) < 1e-9) }
    }

    @Test("units of one group end on distinct nodes, even when their slots start on one")
    func groupOnDistinctNodes() throws {
        let buckets = Self.items(on: 1, count: 3, prefix: "bucket")
        // A heavier item elsewhere, so plain balancing alone could pair two buckets.
        let other = Self.items(on: 2, count: 1, prefix: "solo")[0]
        var units = buckets.map { Self.unit($0, 0.15, group: "phone") }
        units.append(Self.unit(other, 0.2))
        let plan = try PlacementPlan(map: Self.map, units: units)
        let nodes = plan.placements.filter { $0.unit.group == "phone" }.map(\.nodePlanned)
        #expect(Set(nodes).count == 3, "buckets on \(nodes)")
        #expect(plan.moves.allSatisfy { buckets.contains($0.labels.first ?? "") })
        #expect(plan.plannedMaxLoad < plan.currentMaxLoad)
    }

    @Test("units without slot are counted on distinct least-loaded nodes and never moved")
    func unplacedBuckets() throws {
        let hot = Self.items(on: 0, count: 1, prefix: "tv")[0]
        var units = [Self.unit(hot, 0.3)]
        units += (0..<2).map { DemandUnit(label: "phone bucket \($0)", slot: nil, share: 0.2, group: "phone") }
        let plan = try PlacementPlan(map: Self.map, units: units)
        let buckets = plan.placements.filter { $0.unit.slot == nil }
        #expect(Set(buckets.map(\.nodePlanned)).count == 2)
        #expect(!buckets.contains { $0.nodePlanned == 0 }, "a bucket was counted on the node of the hot item")
        #expect(plan.moves.isEmpty)
        #expect(abs(plan.plannedLoads.reduce(0, +) - 1) < 1e-9)
    }

    @Test("more units in a group than nodes spread evenly")
    func groupLargerThanNodes() throws {
        let units = (0..<6).map { DemandUnit(label: "b\($0)", slot: nil, share: 0.1, group: "g") }
        let plan = try PlacementPlan(map: Self.map, units: units)
        let counts = (0..<3).map { node in plan.placements.filter { $0.nodePlanned == node }.count }
        #expect(counts == [2, 2, 2])
    }

    @Test("equal inputs give equal plans, whatever the order of the units")
    func deterministic() throws {
        let units = Self.items(on: 2, count: 5, prefix: "d").enumerated().map { Self.unit($1, 0.05 * Double($0 + 1)) }
        let first = try PlacementPlan(map: Self.map, units: units)
        let second = try PlacementPlan(map: Self.map, units: units)
        let reversed = try PlacementPlan(map: Self.map, units: units.reversed())
        #expect(!first.moves.isEmpty)
        #expect(first.moves == second.moves)
        #expect(first.moves == reversed.moves)
        #expect(first.planned == reversed.planned)
        #expect(first.plannedLoads == second.plannedLoads)
    }

    @Test("with no slot-count slack, cold slots move back so every node keeps its slot count")
    func evenSlotCounts() throws {
        let hot = Self.items(on: 0, count: 3, prefix: "hot")
        let plan = try PlacementPlan(
            map: Self.map, units: hot.map { Self.unit($0, 0.3) }, options: PlacementPlan.Options(slotCountSlack: 0))
        for node in 0..<3 { #expect(plan.planned.slotCount(ofNode: node) == Self.map.slotCount(ofNode: node)) }
        let cold = plan.moves.filter(\.labels.isEmpty)
        #expect(cold.count == 2)
        let hotSlots = Set(hot.map(DemandFile.slot(ofItem:)))
        #expect(cold.allSatisfy { !hotSlots.contains($0.slot) && $0.to == 0 })
        for load in plan.plannedLoads { #expect(abs(load - 1.0 / 3) < 1e-3) }
        // With the default slack the same plan moves only the two hot slots.
        #expect(try PlacementPlan(map: Self.map, units: hot.map { Self.unit($0, 0.3) }).moves.count == 2)
    }

    @Test("items sharing a slot move together")
    func sharedSlotMovesTogether() throws {
        let slot = DemandFile.slot(ofItem: Self.items(on: 0, count: 1, prefix: "s")[0])
        let units = [
            DemandUnit(label: "x", slot: slot, share: 0.2), DemandUnit(label: "y", slot: slot, share: 0.2),
            Self.unit(Self.items(on: 0, count: 1, prefix: "z")[0], 0.4),
        ]
        let plan = try PlacementPlan(map: Self.map, units: units)
        let placements = plan.placements.filter { $0.unit.slot == slot }
        #expect(placements.count == 2 && placements[0].nodePlanned == placements[1].nodePlanned)
        #expect(plan.moves.filter { $0.slot == slot }.allSatisfy { $0.labels == ["x", "y"] })
    }

    @Test("shares outside 0...1 or summing above 1 are refused, naming the unit")
    func invalidShares() {
        let item = Self.items(on: 0, count: 1, prefix: "bad")[0]
        #expect(throws: ConfigError.self) { try PlacementPlan(map: Self.map, units: [Self.unit(item, 1.5)]) }
        do {
            _ = try PlacementPlan(map: Self.map, units: [Self.unit(item, -0.1)])
            Issue.record("a negative share was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.problems.first?.contains(item) == true, "\(error)")
        }
        #expect(throws: ConfigError.self) { try PlacementPlan(map: Self.map, units: [Self.unit(item, 0.6), Self.unit("other", 0.6)]) }
    }
}
