public import SeckillRESP

/// The shards of a Redis Cluster as a node reports them (`CLUSTER SHARDS`, or
/// `CLUSTER SLOTS` on servers without it).
public struct ClusterTopology: Sendable, Hashable {
    /// One node of a shard.
    public struct Node: Sendable, Hashable {
        /// The node id (40 hex characters), or empty when the reply had none.
        public var id: String
        /// Where clients reach it.
        public var host: String
        /// Its client port.
        public var port: Int
        /// True for the shard's primary.
        public var isPrimary: Bool
        /// `online`, `failed` or `loading` (`online` when the reply does not say).
        public var health: String

        /// `host:port` (brackets around IPv6), the name this node has in slot maps and reports.
        public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// The node as a slot-map entry.
        public var nodeConfig: NodeConfig { NodeConfig(name: address, host: host, port: port, slots: []) }
    }

    /// Slots served together by one primary and its replicas.
    public struct Shard: Sendable, Hashable {
        /// The slot ranges; empty for a shard without slots.
        public var slots: [ClosedRange<Int>]
        /// The primary, nil when the reply named none.
        public var primary: Node?
        /// The replicas.
        public var replicas: [Node]
    }

    /// The shards.
    public var shards: [Shard]

    /// Why a topology reply could not be read.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// What was wrong.
        public let description: String
    }

    /// Reads a `CLUSTER SHARDS` reply (RESP2 flat maps or RESP3 maps).
    ///
    /// - Throws: ``ParseError`` when the reply does not have that shape.
    public static func parseShards(_ reply: RESPValue) throws(ParseError) -> ClusterTopology {
        guard let shardValues = reply.array else { throw ParseError(description: "CLUSTER SHARDS did not answer an array: \(reply)") }
        var shards: [Shard] = []
        for shardValue in shardValues {
            let fields = try map(shardValue, "shard")
            var slots: [ClosedRange<Int>] = []
            let bounds = (fields["slots"]?.array ?? []).compactMap(\.int).map(Int.init)
            var index = 0
            while index + 1 < bounds.count {
                if bounds[index] <= bounds[index + 1] { slots.append(bounds[index]...bounds[index + 1]) }
                index += 2
            }
            var primary: Node?
            var replicas: [Node] = []
            for nodeValue in fields["nodes"]?.array ?? [] {
                let node = try map(nodeValue, "node")
                let host =
                    [node["endpoint"]?.string, node["ip"]?.string, node["hostname"]?.string]
                    .compactMap { $0 }.first { !$0.isEmpty && $0 != "?" } ?? ""
                guard let port = (node["port"] ?? node["tls-port"])?.int, !host.isEmpty else { continue }
                let entry = Node(
                    id: node["id"]?.string ?? "", host: host, port: Int(port),
                    isPrimary: node["role"]?.string == "master", health: node["health"]?.string ?? "online")
                if entry.isPrimary { primary = entry } else { replicas.append(entry) }
            }
            shards.append(Shard(slots: slots, primary: primary, replicas: replicas))
        }
        return ClusterTopology(shards: shards)
    }

    /// Reads a `CLUSTER SLOTS` reply: `[start, end, [ip, port, id], replicas...]` per range.
    ///
    /// - Throws: ``ParseError`` when the reply does not have that shape.
    public static func parseSlots(_ reply: RESPValue) throws(ParseError) -> ClusterTopology {
        guard let ranges = reply.array else { throw ParseError(description: "CLUSTER SLOTS did not answer an array: \(reply)") }
        var byPrimary: [String: Shard] = [:]
        var order: [String] = []
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int else {
                throw ParseError(description: "unexpected CLUSTER SLOTS entry \(range)")
            }
            let nodes = parts[2...].compactMap { value -> Node? in
                guard let fields = value.array, fields.count >= 2, let host = fields[0].string, let port = fields[1].int else { return nil }
                return Node(
                    id: fields.count > 2 ? fields[2].string ?? "" : "", host: host, port: Int(port), isPrimary: false, health: "online")
            }
            guard var primary = nodes.first else { continue }
            primary.isPrimary = true
            let key = primary.address
            if byPrimary[key] == nil {
                byPrimary[key] = Shard(slots: [], primary: primary, replicas: Array(nodes.dropFirst()))
                order.append(key)
            }
            byPrimary[key]!.slots.append(Int(start)...Int(end))
        }
        return ClusterTopology(shards: order.map { byPrimary[$0]! })
    }

    /// The slot map: each slot served by its shard's primary, nodes named `host:port`;
    /// primaries that serve no slot are left out. Slots no shard claims (a cluster
    /// mid-change) keep their owner in `previous`.
    ///
    /// - Parameter previous: The map in use, or nil.
    /// - Throws: ``ParseError`` when some slots have no owner in either.
    public func slotMap(previous: SlotMap?) throws(ParseError) -> SlotMap {
        var nodes: [NodeConfig] = []
        var indexOf: [String: Int] = [:]
        func index(of node: NodeConfig) -> Int {
            if let known = indexOf[node.name] { return known }
            nodes.append(node)
            indexOf[node.name] = nodes.count - 1
            return nodes.count - 1
        }
        var owner = [Int](repeating: -1, count: HashSlot.count)
        for shard in shards {
            // A primary without slots is no owner: a failed primary after its replica took
            // over, a node that just joined, or a replica others have not yet heard is one.
            // Listing it would send `SaleCoordinator.prepare()` and pool warm-ups to it.
            let ranges = shard.slots.filter { $0.lowerBound >= 0 && $0.upperBound < HashSlot.count }
            guard let primary = shard.primary, !ranges.isEmpty else { continue }
            let slot = index(of: primary.nodeConfig)
            for range in ranges {
                for value in range { owner[value] = slot }
            }
        }
        var missing = 0
        for value in 0..<HashSlot.count where owner[value] < 0 {
            if let previous {
                var node = previous.node(for: HashSlot(value)!)
                node.slots = []
                owner[value] = index(of: node)
            } else {
                missing += 1
            }
        }
        if missing > 0 { throw ParseError(description: "\(missing) slots are served by no primary") }
        var ranges: [(slots: ClosedRange<Int>, node: Int)] = []
        var start = 0
        for value in 0..<HashSlot.count where value == HashSlot.count - 1 || owner[value + 1] != owner[value] {
            ranges.append((start...value, owner[value]))
            start = value + 1
        }
        do {
            return try SlotMap(nodes: nodes, ranges: ranges, source: "cluster topology")
        } catch {
            throw ParseError(description: error.description)
        }
    }

    /// Every node of every shard.
    public var allNodes: [Node] { shards.flatMap { ($0.primary.map { [$0] } ?? []) + $0.replicas } }

    private static func map(_ value: RESPValue, _ what: String) throws(ParseError) -> [String: RESPValue] {
        guard let flat = value.array, flat.count % 2 == 0 else { throw ParseError(description: "unexpected \(what) entry \(value)") }
        var fields: [String: RESPValue] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let key = flat[index].string { fields[key] = flat[index + 1] }
            index += 2
        }
        return fields
    }
}
