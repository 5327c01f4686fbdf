import Synchronization

/// Routes keys to nodes through a ``SlotMap`` that can be swapped while in use, e.g.
/// after a `MOVED` redirect or a topology refresh.
///
/// Safe to share between tasks and threads. Each call takes the lock once, only to
/// copy the current map (a reference-count increment); hashing and grouping happen
/// outside the lock, so a call always sees one complete map, never a mix.
public final class SlotRouter: Sendable {
    private let state: Mutex<Current>

    /// The map and how many times it was replaced or changed.
    private struct Current {
        var map: SlotMap
        var generation: UInt64 = 0
    }

    /// Creates a router with an initial map.
    ///
    /// - Parameter map: The map to route with.
    public init(map: SlotMap) {
        self.state = Mutex(Current(map: map))
    }

    /// Creates a router for a validated config.
    ///
    /// - Parameter config: A validated config (see ``SlotMap/init(config:)``).
    public convenience init(config: ClusterConfig) {
        self.init(map: SlotMap(config: config))
    }

    /// A snapshot of the current map.
    public var map: SlotMap {
        state.withLock { $0.map }
    }

    /// Replaces the whole map atomically; calls already running finish with the old one.
    ///
    /// - Parameter map: The new map.
    public func replace(with map: SlotMap) {
        state.withLock { current in
            current.map = map
            current.generation &+= 1
        }
    }

    /// Moves one slot to `node` in the current map (after a `MOVED` redirect), atomically
    /// with respect to other updates.
    ///
    /// - Parameters:
    ///   - slot: The slot.
    ///   - node: Its new owner.
    public func reassign(_ slot: HashSlot, to node: NodeConfig) {
        state.withLock { current in
            current.map = current.map.reassigning(slot, to: node)
            current.generation &+= 1
        }
    }

    /// The hash slot of a key (pure; no lock).
    ///
    /// - Parameter key: The key; its UTF-8 bytes are hashed.
    /// - Returns: The slot.
    public func slot(forKey key: String) -> HashSlot {
        HashSlot(key: key)
    }

    /// The hash slot of a key given as bytes (pure; no lock).
    ///
    /// - Parameter key: The key's bytes.
    /// - Returns: The slot.
    public func slot(forKey key: some Collection<UInt8>) -> HashSlot {
        HashSlot(key: key)
    }

    /// The node currently serving a slot.
    ///
    /// - Parameter slot: The slot.
    /// - Returns: The node.
    public func node(for slot: HashSlot) -> NodeConfig {
        state.withLock { $0.map.node(for: slot) }
    }

    /// The index (in the current map's ``SlotMap/nodes``) of the node serving `slot`, and the
    /// map's generation, which changes whenever the map does: what a caller caching per-node
    /// data by index checks its cache against.
    package func owner(of slot: HashSlot) -> (index: Int, generation: UInt64) {
        state.withLock { ($0.map.nodeIndex(for: slot), $0.generation) }
    }

    /// The current map and its generation (see ``owner(of:)``).
    package var generationMap: (map: SlotMap, generation: UInt64) {
        state.withLock { ($0.map, $0.generation) }
    }

    /// The node currently serving a key.
    ///
    /// - Parameter key: The key; its UTF-8 bytes are hashed.
    /// - Returns: The node.
    public func node(forKey key: String) -> NodeConfig {
        node(for: HashSlot(key: key))
    }

    /// The node currently serving a key given as bytes.
    ///
    /// - Parameter key: The key's bytes.
    /// - Returns: The node.
    public func node(forKey key: some Collection<UInt8>) -> NodeConfig {
        node(for: HashSlot(key: key))
    }

    /// Groups items by the node serving their keys, to batch or pipeline them per node.
    ///
    /// - Parameters:
    ///   - items: The items.
    ///   - key: Extracts an item's key.
    /// - Returns: One group per node that has items, in node order; each holds the
    ///   positions in `items` routed to that node, in input order.
    /// - Throws: Whatever `key` throws.
    public func group<Item, Failure: Error>(
        _ items: [Item],
        by key: (Item) throws(Failure) -> String
    ) throws(Failure) -> [(node: NodeConfig, indexes: [Int])] {
        var slots: [HashSlot] = []
        slots.reserveCapacity(items.count)
        for item in items {
            slots.append(HashSlot(key: try key(item)))
        }
        return Self.group(slots: slots, in: map)
    }

    /// Groups items by the node serving their byte keys, like the `String` variant.
    ///
    /// - Parameters:
    ///   - items: The items.
    ///   - key: Extracts an item's key bytes.
    /// - Returns: One group per node that has items, in node order, positions in input order.
    /// - Throws: Whatever `key` throws.
    public func group<Item, Bytes: Collection<UInt8>, Failure: Error>(
        _ items: [Item],
        by key: (Item) throws(Failure) -> Bytes
    ) throws(Failure) -> [(node: NodeConfig, indexes: [Int])] {
        var slots: [HashSlot] = []
        slots.reserveCapacity(items.count)
        for item in items {
            slots.append(HashSlot(key: try key(item)))
        }
        return Self.group(slots: slots, in: map)
    }

    /// Groups string keys by node.
    ///
    /// - Parameter keys: The keys.
    /// - Returns: One group per node that has keys, in node order, positions in input order.
    public func group(_ keys: [String]) -> [(node: NodeConfig, indexes: [Int])] {
        group(keys) { $0 }
    }

    private static func group(slots: [HashSlot], in map: SlotMap) -> [(node: NodeConfig, indexes: [Int])] {
        var buckets = [[Int]](repeating: [], count: map.nodes.count)
        for (position, slot) in slots.enumerated() {
            buckets[map.nodeIndex(for: slot)].append(position)
        }
        return buckets.enumerated().compactMap { index, positions in
            positions.isEmpty ? nil : (map.nodes[index], positions)
        }
    }
}
