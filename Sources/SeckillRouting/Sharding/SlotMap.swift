/// Which node serves each of the 16384 hash slots: a flat table of node indexes.
///
/// A map always covers every slot exactly once; the initializers check that. Lookups
/// are one array read. Copies are cheap (copy-on-write storage).
public struct SlotMap: Sendable, Equatable {
    /// The nodes, indexed by the values ``nodeIndex(for:)`` returns. Each node's
    /// `slots` lists exactly the maximal ranges it serves in this map.
    public let nodes: [NodeConfig]
    /// Slot number → node index; always `HashSlot.count` entries.
    @usableFromInline
    let owners: [UInt16]
    private let slotCounts: [Int]

    /// Builds the map of a validated config.
    ///
    /// - Parameter config: A config returned by ``ClusterConfig/load(path:)``,
    ///   ``ClusterConfig/parse(_:source:)`` or ``ClusterConfig/validated()``.
    /// - Precondition: The config's slots cover 0-16383 exactly once (validation ensures it).
    public init(config: ClusterConfig) {
        do {
            try self.init(nodes: config.nodes, source: config.source)
        } catch {
            preconditionFailure("SlotMap(config:) needs a validated config: \(error)")
        }
    }

    /// Builds a map from nodes that carry their own slot ranges.
    ///
    /// - Parameters:
    ///   - nodes: The nodes; their `slots` must cover 0-16383 exactly once.
    ///   - source: A name prefixing error messages.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalid`` naming every gap,
    ///   overlap or out-of-range slot.
    public init(nodes: [NodeConfig], source: String = "slot map") throws(ConfigError) {
        let ranges = nodes.enumerated().flatMap { index, node in
            node.slots.map { (slots: $0, node: index) }
        }
        try self.init(nodes: nodes, ranges: ranges, source: source)
    }

    /// Builds a map from explicit slot assignments, e.g. from `CLUSTER SHARDS` replies.
    /// The nodes' own `slots` are ignored and replaced by what `ranges` gives them.
    ///
    /// - Parameters:
    ///   - nodes: The nodes (at most 65535).
    ///   - ranges: Slot ranges and the index in `nodes` of the node serving each.
    ///   - source: A name prefixing error messages.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalid`` when a node index is
    ///   out of bounds, a range leaves 0-16383, or the ranges leave gaps or overlap.
    public init(nodes: [NodeConfig], ranges: [(slots: ClosedRange<Int>, node: Int)], source: String = "slot map") throws(ConfigError) {
        var problems: [String] = []
        if nodes.isEmpty {
            problems.append("\(source): a slot map needs at least one node")
        }
        if nodes.count >= Int(UInt16.max) {
            problems.append("\(source): a slot map holds at most \(Int(UInt16.max) - 1) nodes, got \(nodes.count)")
        }
        var perNode = [[ClosedRange<Int>]](repeating: [], count: nodes.count)
        for (slots, node) in ranges {
            guard nodes.indices.contains(node) else {
                problems.append(
                    "\(source): slots \(slots.lowerBound)-\(slots.upperBound) name node index \(node), but there are \(nodes.count) nodes")
                continue
            }
            guard slots.lowerBound >= 0, slots.upperBound < HashSlot.count else {
                problems.append("\(source): slots \(slots.lowerBound)-\(slots.upperBound) of \(nodes[node].name) are outside 0-16383")
                continue
            }
            perNode[node].append(slots)
        }
        if problems.isEmpty {
            let labels = nodes.map(\.name)
            problems = SlotCoverage.problems(rangesPerNode: perNode, labels: labels).map { "\(source): \($0)" }
        }
        guard problems.isEmpty else {
            throw ConfigError(.invalid, problems: problems)
        }

        var owners = [UInt16](repeating: 0, count: HashSlot.count)
        var slotCounts = [Int](repeating: 0, count: nodes.count)
        var rewritten = nodes
        for (index, ranges) in perNode.enumerated() {
            let merged = SlotCoverage.mergeWithRepeats(ranges).union
            for range in merged {
                for slot in range {
                    owners[slot] = UInt16(index)
                }
                slotCounts[index] += range.count
            }
            rewritten[index].slots = merged
        }
        self.nodes = rewritten
        self.owners = owners
        self.slotCounts = slotCounts
    }

    /// The index in ``nodes`` of the node serving a slot.
    ///
    /// - Parameter slot: The slot.
    /// - Returns: An index into ``nodes``.
    @inlinable
    public func nodeIndex(for slot: HashSlot) -> Int {
        Int(owners[Int(slot.rawValue)])
    }

    /// The node serving a slot.
    ///
    /// - Parameter slot: The slot.
    /// - Returns: The node.
    public func node(for slot: HashSlot) -> NodeConfig {
        nodes[nodeIndex(for: slot)]
    }

    /// The index of the node serving a key.
    ///
    /// - Parameter key: The key; its UTF-8 bytes are hashed.
    /// - Returns: An index into ``nodes``.
    public func nodeIndex(forKey key: String) -> Int {
        nodeIndex(for: HashSlot(key: key))
    }

    /// The index of the node serving a key given as bytes.
    ///
    /// - Parameter key: The key's bytes.
    /// - Returns: An index into ``nodes``.
    public func nodeIndex(forKey key: some Collection<UInt8>) -> Int {
        nodeIndex(for: HashSlot(key: key))
    }

    /// The node serving a key.
    ///
    /// - Parameter key: The key; its UTF-8 bytes are hashed.
    /// - Returns: The node.
    public func node(forKey key: String) -> NodeConfig {
        nodes[nodeIndex(forKey: key)]
    }

    /// The node serving a key given as bytes.
    ///
    /// - Parameter key: The key's bytes.
    /// - Returns: The node.
    public func node(forKey key: some Collection<UInt8>) -> NodeConfig {
        nodes[nodeIndex(forKey: key)]
    }

    /// How many slots a node serves.
    ///
    /// - Parameter index: An index into ``nodes``.
    /// - Returns: The slot count, 0...16384.
    public func slotCount(ofNode index: Int) -> Int {
        slotCounts[index]
    }

    /// The maximal slot ranges a node serves, in slot order.
    ///
    /// - Parameter index: An index into ``nodes``.
    /// - Returns: The ranges; empty when the node serves no slot.
    public func ranges(ofNode index: Int) -> [ClosedRange<Int>] {
        nodes[index].slots
    }

    /// The fraction of all slots a node serves, 0...1.
    ///
    /// - Parameter index: An index into ``nodes``.
    /// - Returns: `slotCount(ofNode:) / 16384`.
    public func share(ofNode index: Int) -> Double {
        Double(slotCounts[index]) / Double(HashSlot.count)
    }

    /// A copy in which `slot` is served by `node`, as a `MOVED` redirect reports. The node is
    /// matched by name and appended when the map does not know it yet.
    ///
    /// - Parameters:
    ///   - slot: The slot that moved.
    ///   - node: Its new owner.
    /// - Returns: The updated map.
    public func reassigning(_ slot: HashSlot, to node: NodeConfig) -> SlotMap {
        var nodes = self.nodes
        let index: Int
        if let existing = nodes.firstIndex(where: { $0.name == node.name }) {
            index = existing
        } else {
            nodes.append(node)
            index = nodes.count - 1
        }
        var owners = self.owners
        owners[Int(slot.rawValue)] = UInt16(index)
        return SlotMap(nodes: nodes, owners: owners)
    }

    /// Builds a map straight from a complete owner table, recomputing ranges and counts.
    private init(nodes: [NodeConfig], owners: [UInt16]) {
        var ranges = [[ClosedRange<Int>]](repeating: [], count: nodes.count)
        var counts = [Int](repeating: 0, count: nodes.count)
        var start = 0
        for slot in 0..<HashSlot.count {
            let owner = Int(owners[slot])
            counts[owner] += 1
            if slot == HashSlot.count - 1 || owners[slot + 1] != owners[slot] {
                ranges[owner].append(start...slot)
                start = slot + 1
            }
        }
        var rewritten = nodes
        for index in rewritten.indices { rewritten[index].slots = ranges[index] }
        self.nodes = rewritten
        self.owners = owners
        self.slotCounts = counts
    }
}
