/// One unit of expected demand: an item's hash slot (or one bucket of an item) and the share of
/// all purchase attempts it draws.
public struct DemandUnit: Sendable, Hashable {
    /// What the unit is, for reports: `phone`, `phone bucket 2`.
    public var label: String
    /// The slot its keys hash to; nil for a unit that has no slot yet (a bucket that publish
    /// will place on a node of its own choosing): it is accounted on the least-loaded node and
    /// never moved.
    public var slot: HashSlot?
    /// Its share of all attempts, 0...1.
    public var share: Double
    /// Units with the same group should be served by different nodes (the buckets of one item).
    public var group: String?

    /// Creates a unit.
    ///
    /// - Parameters:
    ///   - label: A name for reports.
    ///   - slot: Its slot, or nil when it has none yet.
    ///   - share: Its share of all attempts, 0...1.
    ///   - group: Units of one group should be on distinct nodes; nil for none.
    public init(label: String, slot: HashSlot?, share: Double, group: String? = nil) {
        self.label = label
        self.slot = slot
        self.share = share
        self.group = group
    }
}

/// Where slots should live so that every node expects about the same share of a sale's
/// attempts, computed from the current slot map and the expected demand.
///
/// The listed units (hot items, buckets) are placed heaviest first, each on its current node
/// when that keeps the node within the best balance found, otherwise on the least-loaded node
/// (among those holding the fewest units of its group), so few slots move and only hot ones.
/// Units of one group always end spread over distinct nodes (evenly when there are more units
/// than nodes), even where that costs balance. A current placement that spreads its groups and
/// is within ``Options/tolerance`` of the best balance found is kept: no moves.
/// Demand nobody listed is spread over the other slots by slot count. When the hot moves leave
/// a node's slot count more than ``Options/slotCountSlack`` away from where it was, cold slots
/// (no listed demand) move back the other way. The result is deterministic: equal inputs give
/// equal plans.
public struct PlacementPlan: Sendable {
    /// Tuning of the planner.
    public struct Options: Sendable, Hashable {
        /// A current placement whose busiest node is within this of the best balance found is
        /// kept as it is: no moves; and a plan that keeps more units in place may leave the
        /// busiest node up to half of this above that balance. Default 0.01 (one percentage point).
        public var tolerance: Double
        /// How far hot moves may shift a node's slot count before cold slots move back to
        /// compensate. Default 64.
        public var slotCountSlack: Int

        /// Creates options.
        ///
        /// - Parameters:
        ///   - tolerance: See ``tolerance``.
        ///   - slotCountSlack: See ``slotCountSlack``.
        public init(tolerance: Double = 0.01, slotCountSlack: Int = 64) {
            self.tolerance = tolerance
            self.slotCountSlack = slotCountSlack
        }
    }

    /// One slot moving to another node.
    public struct Move: Sendable, Hashable {
        /// The slot.
        public var slot: HashSlot
        /// Its node now, an index into the map's nodes.
        public var from: Int
        /// Its node as planned.
        public var to: Int
        /// The units in it (empty for a cold slot moved to keep slot counts even).
        public var labels: [String]
        /// Their combined share of attempts.
        public var share: Double
    }

    /// Where one unit is served now and as planned.
    public struct Placement: Sendable, Hashable {
        /// The unit.
        public var unit: DemandUnit
        /// Its node now (for a unit without slot: the node it is accounted on).
        public var nodeNow: Int
        /// Its node as planned.
        public var nodePlanned: Int
    }

    /// The slot map the plan starts from.
    public let current: SlotMap
    /// The slot map after the moves (same nodes, same order).
    public let planned: SlotMap
    /// Expected share of attempts per node now, in node order; sums to about 1.
    public let currentLoads: [Double]
    /// Expected share of attempts per node as planned.
    public let plannedLoads: [Double]
    /// The slot moves, hot slots first (heaviest first), then cold ones in slot order.
    public let moves: [Move]
    /// Every unit and where it is served.
    public let placements: [Placement]
    /// The share of attempts not listed, spread over the other slots by slot count.
    public let unlistedShare: Double

    /// The busiest node's expected share now.
    public var currentMaxLoad: Double { currentLoads.max() ?? 0 }
    /// The busiest node's expected share as planned.
    public var plannedMaxLoad: Double { plannedLoads.max() ?? 0 }

    /// Plans the placement.
    ///
    /// - Parameters:
    ///   - map: The slot map now.
    ///   - units: The listed demand; shares in 0...1 summing to at most 1.
    ///   - unlistedShare: The share of attempts spread over the slots no unit names, by slot
    ///     count; nil for `1 - sum of shares`.
    ///   - options: Tuning.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalidArgument`` when a share
    ///   is outside 0...1 or not finite, or the shares sum to more than 1.
    public init(map: SlotMap, units: [DemandUnit], unlistedShare: Double? = nil, options: Options = Options()) throws(ConfigError) {
        var problems: [String] = []
        for unit in units where !(unit.share.isFinite && (0...1).contains(unit.share)) {
            problems.append("demand unit \(unit.label): share \(unit.share) is not in 0...1")
        }
        let listed = units.reduce(0) { $0 + $1.share }
        if listed > 1 + 1e-9 { problems.append("demand units: shares sum to \(listed), more than 1") }
        let rest = unlistedShare ?? max(0, 1 - listed)
        if !(rest.isFinite && (0...1).contains(rest)) { problems.append("unlisted share \(rest) is not in 0...1") }
        guard problems.isEmpty else { throw ConfigError(.invalidArgument, problems: problems) }

        let planner = Planner(map: map, units: units, unlisted: rest)
        let now = planner.evaluate(owners: planner.owners, mode: .keep)
        let balanced = planner.evaluate(owners: planner.owners, mode: .balance)
        // Keep what already fits within about the balanced result's busiest node: nearly the
        // same balance with fewer moves. Of the passes that stay within half the tolerance of
        // it, the one with the fewest moves wins (then the lower busiest node), else the plain
        // balance.
        let best = balanced.loads.max() ?? 0
        var chosen = balanced
        for slack in [0, options.tolerance / 4, options.tolerance / 2] {
            let kept = planner.evaluate(owners: planner.owners, mode: .keepWithin(best + slack))
            let peak = kept.loads.max() ?? 0
            guard peak <= best + options.tolerance / 2 + 1e-12 else { continue }
            let (moves, chosenMoves) = (planner.hotMoves(to: kept.owners).count, planner.hotMoves(to: chosen.owners).count)
            if moves < chosenMoves || (moves == chosenMoves && peak < (chosen.loads.max() ?? 0)) { chosen = kept }
        }
        if planner.spreadsGroups(now), (now.loads.max() ?? 0) <= (chosen.loads.max() ?? 0) + options.tolerance { chosen = now }
        var owners = chosen.owners
        var moves = planner.hotMoves(to: owners)
        moves += planner.evenSlotCounts(&owners, slack: options.slotCountSlack)
        let final = planner.evaluate(owners: owners, mode: .keep, placingFree: chosen.freeNodes)

        self.current = map
        self.planned = planner.map(owners: owners)
        self.currentLoads = now.loads
        self.plannedLoads = final.loads
        self.moves = moves
        self.unlistedShare = rest
        self.placements = units.enumerated().map { index, unit in
            Placement(unit: unit, nodeNow: now.unitNodes[index], nodePlanned: final.unitNodes[index])
        }
    }
}

/// The planner's working state: the units grouped by slot, the owner table, cold load per slot.
private struct Planner {
    /// Units sharing one slot move together; units without slot are entries of their own.
    struct Entry {
        var slot: HashSlot?
        var share: Double
        var units: [Int]
        var groups: [String]
    }

    /// A complete placement and the loads it gives.
    struct Outcome {
        var owners: [Int]
        var loads: [Double]
        var unitNodes: [Int]
        /// The node of each entry without slot.
        var freeNodes: [Int: Int]
    }

    let map: SlotMap
    let units: [DemandUnit]
    let entries: [Entry]
    let owners: [Int]
    let hotSlots: Set<Int>
    let coldPerSlot: Double

    init(map: SlotMap, units: [DemandUnit], unlisted: Double) {
        self.map = map
        self.units = units
        var bySlot: [Int: Int] = [:]
        var entries: [Entry] = []
        for (index, unit) in units.enumerated() {
            let groups = unit.group.map { [$0] } ?? []
            if let slot = unit.slot, let existing = bySlot[Int(slot.rawValue)] {
                entries[existing].share += unit.share
                entries[existing].units.append(index)
                entries[existing].groups += groups
            } else {
                if let slot = unit.slot { bySlot[Int(slot.rawValue)] = entries.count }
                entries.append(Entry(slot: unit.slot, share: unit.share, units: [index], groups: groups))
            }
        }
        // Heaviest first; ties by slot (entries without slot last), then by first unit: deterministic.
        self.entries = entries.enumerated().sorted { lhs, rhs in
            if lhs.element.share != rhs.element.share { return lhs.element.share > rhs.element.share }
            let left = lhs.element.slot.map { Int($0.rawValue) } ?? Int.max
            let right = rhs.element.slot.map { Int($0.rawValue) } ?? Int.max
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
        self.owners = (0..<HashSlot.count).map { map.nodeIndex(for: HashSlot(unchecked: UInt16($0))) }
        self.hotSlots = Set(bySlot.keys)
        let cold = HashSlot.count - hotSlots.count
        self.coldPerSlot = cold > 0 ? unlisted / Double(cold) : 0
    }

    /// How ``evaluate(owners:mode:placingFree:)`` treats entries that have a slot.
    enum Mode {
        /// Every slot stays with its owner.
        case keep
        /// Every slot goes to the least-loaded candidate node (greedy longest-first balancing).
        case balance
        /// A slot stays with its owner while that node's load stays within the limit, else it
        /// goes to the least-loaded candidate.
        case keepWithin(Double)
    }

    /// Places every entry, heaviest first, and returns the loads. Entries without slot go to
    /// the least-loaded candidate node, or where `placingFree` says.
    func evaluate(owners start: [Int], mode: Mode, placingFree: [Int: Int]? = nil) -> Outcome {
        var owners = start
        var loads = [Double](repeating: 0, count: map.nodes.count)
        for slot in 0..<HashSlot.count where !hotSlots.contains(slot) { loads[owners[slot]] += coldPerSlot }
        var groupCounts: [String: [Int]] = [:]
        var unitNodes = [Int](repeating: 0, count: units.count)
        var freeNodes: [Int: Int] = [:]
        for (position, entry) in entries.enumerated() {
            let candidates = self.candidates(for: entry, counts: groupCounts)
            let node: Int
            if let slot = entry.slot {
                let owner = owners[Int(slot.rawValue)]
                switch mode {
                case .keep:
                    node = owner
                case .keepWithin(let limit) where candidates.contains(owner) && loads[owner] + entry.share <= limit + Self.tie:
                    node = owner
                case .keepWithin, .balance:
                    node = Self.leastLoaded(candidates, loads, preferring: owner)
                }
                owners[Int(slot.rawValue)] = node
            } else {
                node = placingFree?[position] ?? Self.leastLoaded(candidates, loads, preferring: nil)
                freeNodes[position] = node
            }
            loads[node] += entry.share
            for group in entry.groups { groupCounts[group, default: [Int](repeating: 0, count: map.nodes.count)][node] += 1 }
            for unit in entry.units { unitNodes[unit] = node }
        }
        return Outcome(owners: owners, loads: loads, unitNodes: unitNodes, freeNodes: freeNodes)
    }

    /// Whether every group's units are spread as evenly as the nodes allow (at most one more
    /// on any node than on another).
    func spreadsGroups(_ outcome: Outcome) -> Bool {
        var counts: [String: [Int]] = [:]
        for (index, unit) in units.enumerated() {
            guard let group = unit.group else { continue }
            counts[group, default: [Int](repeating: 0, count: map.nodes.count)][outcome.unitNodes[index]] += 1
        }
        return counts.values.allSatisfy { ($0.max() ?? 0) - ($0.min() ?? 0) <= 1 }
    }

    /// The nodes holding the fewest units of the entry's groups (every node when it has none).
    private func candidates(for entry: Entry, counts: [String: [Int]]) -> [Int] {
        let nodes = Array(map.nodes.indices)
        guard !entry.groups.isEmpty else { return nodes }
        let held = nodes.map { node in entry.groups.reduce(0) { $0 + (counts[$1]?[node] ?? 0) } }
        let fewest = held.min() ?? 0
        return nodes.filter { held[$0] == fewest }
    }

    /// Loads closer than this count as equal (a few cold slots' worth), so a slot is not moved
    /// for a difference nobody could measure.
    static let tie = 1e-4

    /// The candidate with the least load; on a tie the preferred node, then the lowest index.
    private static func leastLoaded(_ candidates: [Int], _ loads: [Double], preferring preferred: Int?) -> Int {
        var best = candidates[0]
        for node in candidates.dropFirst() where loads[node] < loads[best] - tie { best = node }
        if let preferred, candidates.contains(preferred), loads[preferred] <= loads[best] + tie { return preferred }
        return best
    }

    /// The moves of hot slots from the current owners to `target`, heaviest first.
    func hotMoves(to target: [Int]) -> [PlacementPlan.Move] {
        entries.compactMap { entry in
            guard let slot = entry.slot else { return nil }
            let value = Int(slot.rawValue)
            guard owners[value] != target[value] else { return nil }
            return PlacementPlan.Move(
                slot: slot, from: owners[value], to: target[value], labels: entry.units.map { units[$0].label }, share: entry.share)
        }
    }

    /// Moves cold slots so that no node's slot count drifts more than `slack` from where it
    /// started: from the node that gained most to the one that lost most, highest slot first.
    func evenSlotCounts(_ owners: inout [Int], slack: Int) -> [PlacementPlan.Move] {
        let nodes = map.nodes.count
        var drift = [Int](repeating: 0, count: nodes)
        for slot in 0..<HashSlot.count where owners[slot] != self.owners[slot] {
            drift[owners[slot]] += 1
            drift[self.owners[slot]] -= 1
        }
        var moves: [PlacementPlan.Move] = []
        while true {
            guard let gained = drift.indices.max(by: { drift[$0] < drift[$1] || (drift[$0] == drift[$1] && $0 > $1) }),
                let lost = drift.indices.min(by: { drift[$0] < drift[$1] || (drift[$0] == drift[$1] && $0 < $1) }),
                drift[gained] > slack || drift[lost] < -slack,
                let slot = (0..<HashSlot.count).reversed().first(where: { owners[$0] == gained && !hotSlots.contains($0) })
            else { break }
            owners[slot] = lost
            drift[gained] -= 1
            drift[lost] += 1
            moves.append(
                PlacementPlan.Move(slot: HashSlot(unchecked: UInt16(slot)), from: gained, to: lost, labels: [], share: coldPerSlot))
        }
        return moves
    }

    /// The slot map of an owner table, over the same nodes.
    func map(owners: [Int]) -> SlotMap {
        var ranges: [(slots: ClosedRange<Int>, node: Int)] = []
        var start = 0
        for slot in 0..<HashSlot.count where slot == HashSlot.count - 1 || owners[slot + 1] != owners[slot] {
            ranges.append((start...slot, owners[slot]))
            start = slot + 1
        }
        do {
            return try SlotMap(nodes: map.nodes, ranges: ranges, source: "placement plan")
        } catch {
            preconditionFailure("an owner table covers every slot once: \(error)")
        }
    }
}
