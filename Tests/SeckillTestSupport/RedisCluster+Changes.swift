import Foundation

extension RedisCluster {
    // MARK: Changing the cluster

    /// Opens the move of `slot`: `CLUSTER SETSLOT IMPORTING` on the target, then
    /// `MIGRATING` on the source. Until ``finishMigration(_:)`` the source answers `ASK`
    /// for missing keys and the target serves `ASKING` clients.
    public func beginMigration(slot: Int, from source: RedisServer, to target: RedisServer) async throws -> Migration {
        try await Self.blocking {
            let sourceID = try Self.myID(port: source.port)
            let targetID = try Self.myID(port: target.port)
            try Self.expectOK(port: target.port, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID])
            try Self.expectOK(port: source.port, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID])
            return Migration(slot: slot, source: source, target: target, sourceID: sourceID, targetID: targetID)
        }
    }

    /// Moves keys of the slot to the target with `CLUSTER GETKEYSINSLOT` and `MIGRATE ... KEYS`,
    /// `batch` at a time, until the source holds none or `limit` keys were moved.
    ///
    /// - Returns: The keys moved.
    @discardableResult
    public func moveKeys(_ migration: Migration, batch: Int = 100, limit: Int? = nil) async throws -> Int {
        try await Self.blocking { try Self.moveKeysNow(migration, batch: batch, limit: limit) }
    }

    /// Moves the keys left, then gives the slot to the target: `CLUSTER SETSLOT NODE` on
    /// the target, the source and every other primary; waits until the cluster is stable.
    public func finishMigration(_ migration: Migration) async throws {
        try await Self.blocking {
            _ = try Self.moveKeysNow(migration, batch: 100, limit: nil)
            let others = try self.primariesNow(includingEmpty: true).filter {
                $0.port != migration.source.port && $0.port != migration.target.port
            }
            for server in [migration.target, migration.source] + others {
                try Self.expectOK(port: server.port, ["CLUSTER", "SETSLOT", String(migration.slot), "NODE", migration.targetID])
            }
            try self.waitUntilStableNow(timeout: 30)
        }
    }

    /// Moves `slot` from `source` to `target` in one go (begin, move keys, finish).
    public func migrate(slot: Int, from source: RedisServer, to target: RedisServer) async throws {
        let migration = try await beginMigration(slot: slot, from: source, to: target)
        try await finishMigration(migration)
    }

    /// `CLUSTER FAILOVER` on `replica`; waits until it serves its former primary's slots and
    /// the cluster is stable (the former primary a replica of it).
    public func failover(replica: RedisServer) async throws {
        try await Self.blocking {
            try Self.expectOK(port: replica.port, ["CLUSTER", "FAILOVER"])
            try self.poll(timeout: 30, what: "the failover to \(replica.port)") {
                guard let me = try Self.clusterNodes(port: replica.port).first(where: \.isMyself), me.isPrimary, !me.slots.isEmpty else {
                    return "\(replica.port) is not a primary with slots yet"
                }
                return self.stabilityProblem()
            }
        }
    }

    /// Kills `primary` with SIGKILL and waits until one of its replicas was promoted and the
    /// cluster is stable again without it. Its client and bus ports stay reserved until the
    /// cluster is released: on a shared machine another process's server could otherwise
    /// take the port, and a client still routing there would talk to a stranger.
    ///
    /// - Returns: The promoted replica.
    @discardableResult
    public func kill(primary: RedisServer) async throws -> RedisServer {
        try await Self.blocking {
            let observer = try self.runningNow().first { $0.port != primary.port }.orThrow("no other node to watch the failover from")
            let view = try Self.clusterNodes(port: observer.port)
            let victim = try view.first { $0.port == primary.port }.orThrow("\(primary.port) is not in the cluster")
            let slot = try victim.slots.first.orThrow("\(primary.port) serves no slot").lowerBound
            let replicaPorts = Set(view.filter { $0.primaryID == victim.id }.map(\.port))
            self.state.withLock { _ = $0.killed.insert(primary.port) }
            primary.stop(hard: true)
            let held = [primary.port, primary.port + 10_000].compactMap(Self.placeholder(port:))
            self.state.withLock { $0.placeholders += held }
            var promoted: RedisServer?
            try self.poll(timeout: 30, what: "the promotion of a replica of \(primary.port)") {
                let owner = try Self.clusterNodes(port: observer.port).first { $0.isPrimary && $0.serves(slot) }
                guard let owner, replicaPorts.contains(owner.port) else { return "slot \(slot) is not served by a former replica yet" }
                promoted = self.server(port: owner.port)
                return self.stabilityProblem()
            }
            return try promoted.orThrow("no replica of \(primary.port) was promoted")
        }
    }

    /// Starts a new cluster-enabled server, introduces it with `CLUSTER MEET` and waits until
    /// every node knows it. It joins as a primary without slots; give it some with
    /// ``migrate(slot:from:to:)``.
    ///
    /// - Returns: The new server.
    public func addPrimary() async throws -> RedisServer {
        try await Self.blocking {
            let server = try Self.startServer(nodeTimeoutMs: self.nodeTimeoutMs)
            self.state.withLock { $0.servers.append(server) }
            let anchor = try self.runningNow().first { $0.port != server.port }.orThrow("no node to meet")
            try Self.expectOK(port: anchor.port, ["CLUSTER", "MEET", "127.0.0.1", String(server.port)])
            try self.waitUntilStableNow(timeout: 30)
            return server
        }
    }

    static func moveKeysNow(_ migration: Migration, batch: Int, limit: Int?) throws -> Int {
        var moved = 0
        while limit.map({ moved < $0 }) ?? true {
            let count = min(batch, limit.map { $0 - moved } ?? batch)
            let reply = try AdminConnection.command(
                port: migration.source.port, ["CLUSTER", "GETKEYSINSLOT", String(migration.slot), String(count)])
            let keys = try reply.array.orThrow("GETKEYSINSLOT answered \(reply)").compactMap(\.string)
            if keys.isEmpty { break }
            let answer = try AdminConnection.command(
                port: migration.source.port,
                ["MIGRATE", "127.0.0.1", String(migration.target.port), "", "0", "10000", "KEYS"] + keys)
            // NOKEY: the keys expired between the two commands.
            guard answer.string == "OK" || answer.string == "NOKEY" else {
                throw AdminError(
                    "MIGRATE of slot \(migration.slot) from \(migration.source.port) to \(migration.target.port) answered \(answer)")
            }
            moved += keys.count
        }
        return moved
    }
}
