internal import Foundation
import SeckillRESP
import SeckillTransport

/// Why a slot move was refused or failed.
public struct SlotMigrationError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable {
        private enum Base: Sendable, Hashable { case unhealthy, failed, notCluster }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The cluster is not in a state to move slots safely; nothing was changed.
        public static var unhealthy: Code { Code(.unhealthy) }
        /// A step of a move failed; the message says which and what state the slot is in.
        public static var failed: Code { Code(.failed) }
        /// The client is not in cluster mode.
        public static var notCluster: Code { Code(.notCluster) }
    }

    /// The kind of failure.
    public let code: Code
    /// What is wrong, one line per problem.
    public let problems: [String]

    init(_ code: Code, _ problems: [String]) {
        self.code = code
        self.problems = problems
    }

    /// The problems, joined with `; `.
    public var description: String { problems.joined(separator: "; ") }
}

/// Moves hash slots between the primaries of a Redis Cluster while clients keep using them,
/// with the procedure Redis documents for resharding: `CLUSTER SETSLOT slot IMPORTING` on the
/// target, `MIGRATING` on the source, the slot's keys moved with `CLUSTER GETKEYSINSLOT` and
/// `MIGRATE ... KEYS` (the keys of one hash tag in one call, as far as one listing holds them),
/// then `CLUSTER SETSLOT slot NODE` on the target, the source and every other primary. During the move the source answers
/// `ASK` for keys it no longer has and clients follow it; commands are never refused for long.
///
/// Every command goes through the client's pools (``ClusterClient/execute(_:on:)``).
/// ``keys(inSlots:on:matching:)`` and ``moveKeys(_:from:to:)`` also serve static mode, where
/// keys move between plain nodes before a new cluster.json takes effect.
public struct SlotMigration: Sendable {
    /// The client whose cluster is changed.
    public let client: ClusterClient
    /// The most keys moved by one `MIGRATE` (the keys of one hash tag in one listing are never
    /// split over two). Default 100.
    public var batchSize: Int
    /// Keys asked of `CLUSTER GETKEYSINSLOT` at once, then moved in batches; large, so that the
    /// keys of one item (one hash tag) come in one listing and move in one `MIGRATE`, leaving no
    /// moment where purchases of it find some keys on each node (`TRYAGAIN`). Default 1000.
    public var listSize: Int
    /// `MIGRATE`'s timeout. Default: the config's command timeout.
    public var migrateTimeout: Duration

    /// Creates a migration helper.
    ///
    /// - Parameters:
    ///   - client: The client; slot moves need one in cluster mode.
    ///   - batchSize: Most keys per `MIGRATE`.
    ///   - listSize: Keys per `CLUSTER GETKEYSINSLOT`.
    public init(client: ClusterClient, batchSize: Int = 100, listSize: Int = 1000) {
        self.client = client
        self.batchSize = max(1, batchSize)
        self.listSize = max(1, listSize)
        self.migrateTimeout = client.config.timeouts.command
    }

    /// What keeps the cluster from moving slots safely now, read from every primary: not
    /// `cluster_state:ok`, slots not all assigned or some failing, a slot already importing or
    /// migrating, a node flagged failing or not yet joined, a cluster bus link down. The topology
    /// is refreshed first.
    ///
    /// - Returns: One line per problem; empty when the cluster is healthy.
    /// - Throws: ``SlotMigrationError`` (`notCluster`) in static mode; ``RedisError`` when a
    ///   primary cannot be asked.
    public func healthProblems() async throws -> [String] {
        try requireClusterMode()
        try await client.refreshTopology()
        let primaries = (client.topology?.shards ?? []).compactMap(\.primary)
        var problems: [String] = []
        for primary in primaries {
            let replies = try await client.execute(
                [RESPCommand("CLUSTER", "INFO"), RESPCommand("CLUSTER", "NODES")], on: primary.nodeConfig)
            if let message = replies.compactMap(\.errorMessage).first {
                problems.append("\(primary.address): \(message)")
                continue
            }
            let info = Self.fields(replies[0].string ?? "")
            if info["cluster_state"] != "ok" {
                problems.append("\(primary.address) says cluster_state:\(info["cluster_state"] ?? "?") (not ok)")
            }
            if let assigned = info["cluster_slots_assigned"], assigned != String(HashSlot.count) {
                problems.append("\(primary.address) sees \(assigned) of \(HashSlot.count) slots assigned")
            }
            for field in ["cluster_slots_pfail", "cluster_slots_fail"] where (info[field] ?? "0") != "0" {
                problems.append("\(primary.address) sees \(field.dropFirst(8)) = \(info[field] ?? "?") slots")
            }
            for line in (replies[1].string ?? "").split(whereSeparator: \.isNewline) {
                problems += Self.nodeLineProblems(line, seenBy: primary.address)
            }
        }
        if primaries.isEmpty { problems.append("the cluster topology lists no primary") }
        var seen = Set<String>()
        return problems.filter { seen.insert($0).inserted }
    }

    /// Throws when ``healthProblems()`` finds any.
    ///
    /// - Throws: ``SlotMigrationError`` (`unhealthy`) listing them, or what reading them threw.
    public func requireHealthy() async throws {
        let problems = try await healthProblems()
        guard problems.isEmpty else {
            throw SlotMigrationError(.unhealthy, ["the cluster is not healthy, nothing was moved"] + problems)
        }
    }

    /// Moves one slot and its keys from `source` to `target` (both primaries).
    ///
    /// - Parameters:
    ///   - slot: The slot.
    ///   - source: Its primary now.
    ///   - target: The primary to give it to.
    ///   - progress: Told of each step (a line for standard error).
    /// - Returns: The number of keys moved.
    /// - Throws: ``SlotMigrationError`` (`failed`) naming the step and the state the slot was
    ///   left in, or ``RedisError`` for a transport failure.
    @discardableResult
    public func move(
        _ slot: HashSlot, from source: ClusterTopology.Node, to target: ClusterTopology.Node,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Int {
        try requireClusterMode()
        let value = String(slot.rawValue)
        let sourceID = try await nodeID(source)
        let targetID = try await nodeID(target)
        try await expectOK(["CLUSTER", "SETSLOT", value, "IMPORTING", sourceID], on: target, step: "opening the import", slot: slot)
        try await expectOK(["CLUSTER", "SETSLOT", value, "MIGRATING", targetID], on: source, step: "opening the migration", slot: slot)
        progress("slot \(value): migrating from \(source.address) to \(target.address)")
        var moved = 0
        while true {
            let reply = try await send(["CLUSTER", "GETKEYSINSLOT", value, String(listSize)], on: source)
            if let message = reply.errorMessage { throw failure("listing its keys", slot, source, target, message) }
            let keys = (reply.array ?? []).compactMap(\.bytes)
            if keys.isEmpty { break }
            for batch in Self.batches(keys, size: batchSize) {
                let answer = try await client.execute([migrateCommand(batch, to: target.host, port: target.port)], on: source.nodeConfig)[0]
                // NOKEY: the keys went away between the listing and the move.
                guard answer.string == "OK" || answer.string == "NOKEY" else {
                    throw failure("moving \(batch.count) keys", slot, source, target, answer.errorMessage ?? "\(answer)")
                }
                moved += batch.count
            }
            progress("slot \(value): \(moved) keys moved")
        }
        let others = (client.topology?.shards ?? []).compactMap(\.primary).filter {
            $0.address != source.address && $0.address != target.address
        }
        for node in [target, source] + others {
            try await expectOK(["CLUSTER", "SETSLOT", value, "NODE", targetID], on: node, step: "giving it to the target", slot: slot)
        }
        progress("slot \(value): now served by \(target.address) (\(moved) keys moved)")
        return moved
    }

    // MARK: - Helpers

    private func requireClusterMode() throws {
        guard client.config.mode == .cluster else {
            throw SlotMigrationError(.notCluster, ["\(client.config.source): slots move only in a Redis Cluster (\"mode\": \"cluster\")"])
        }
    }

    /// A node's id: from the topology, else asked with `CLUSTER MYID`.
    private func nodeID(_ node: ClusterTopology.Node) async throws -> String {
        if !node.id.isEmpty { return node.id }
        let reply = try await send(["CLUSTER", "MYID"], on: node)
        guard let id = reply.string, !id.isEmpty else {
            throw SlotMigrationError(.failed, ["\(node.address) did not tell its node id: \(reply)"])
        }
        return id
    }

    private func send(_ arguments: [String], on node: ClusterTopology.Node) async throws -> RESPValue {
        try await client.execute([RESPCommand(arguments: arguments.map { Array($0.utf8) })], on: node.nodeConfig)[0]
    }

    private func expectOK(_ arguments: [String], on node: ClusterTopology.Node, step: String, slot: HashSlot) async throws {
        let reply = try await send(arguments, on: node)
        guard reply.string == "OK" else {
            throw SlotMigrationError(
                .failed,
                [
                    "slot \(slot.rawValue): \(step) failed on \(node.address): \(reply.errorMessage ?? "\(reply)") (\(arguments.joined(separator: " "))); the slot may be left importing or migrating: check with seckill cluster status and close it with CLUSTER SETSLOT \(slot.rawValue) STABLE or finish it with redis-cli --cluster fix"
                ])
        }
    }

    private func failure(
        _ step: String, _ slot: HashSlot, _ source: ClusterTopology.Node, _ target: ClusterTopology.Node, _ message: String
    ) -> SlotMigrationError {
        SlotMigrationError(
            .failed,
            [
                "slot \(slot.rawValue): \(step) from \(source.address) to \(target.address) failed: \(message); the slot is left migrating (clients are still served through ASK): run redis-cli --cluster fix to finish it"
            ])
    }

    /// `keys` cut into batches of at most `size`, never splitting the keys of one hash tag
    /// (one item's keys move in one `MIGRATE`, so a purchase finds them all on one node).
    static func batches(_ keys: [[UInt8]], size: Int) -> [[[UInt8]]] {
        var byTag: [[UInt8]: [[UInt8]]] = [:]
        var order: [[UInt8]] = []
        for key in keys {
            let range = key.withUnsafeBytes { HashSlot.hashedRange(of: $0) }
            let tag = Array(key[range])
            if byTag[tag] == nil { order.append(tag) }
            byTag[tag, default: []].append(key)
        }
        var batches: [[[UInt8]]] = []
        var current: [[UInt8]] = []
        for tag in order {
            let group = byTag[tag] ?? []
            if !current.isEmpty && current.count + group.count > size {
                batches.append(current)
                current = []
            }
            current += group
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// `name:value` lines (`CLUSTER INFO`) as a dictionary.
    static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// The problems one `CLUSTER NODES` line shows: a failing or joining node, a link down, an
    /// open (importing or migrating) slot.
    static func nodeLineProblems(_ line: Substring, seenBy observer: String) -> [String] {
        let parts = line.split(separator: " ")
        guard parts.count >= 8 else { return [] }
        let address = parts[1].split(separator: "@").first.map(String.init) ?? String(parts[1])
        let flags = Set(parts[2].split(separator: ",").map(String.init))
        var problems: [String] = []
        for flag in ["fail", "fail?", "handshake", "noaddr"] where flags.contains(flag) {
            problems.append("\(observer) flags node \(address) as \(flag)")
        }
        if parts[7] != "connected" { problems.append("\(observer) has no cluster bus link to \(address) (\(parts[7]))") }
        for slot in parts.dropFirst(8) where slot.hasPrefix("[") {
            let state = slot.contains("->-") ? "migrating" : "importing"
            let number = slot.dropFirst().prefix { $0.isNumber }
            problems.append("slot \(number) is \(state) on \(address)")
        }
        return problems
    }
}
