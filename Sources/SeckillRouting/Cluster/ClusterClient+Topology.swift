import SeckillRESP
import SeckillTransport

extension ClusterClient {
    /// Refreshes the topology every `topology.refreshIntervalMs` until the task is
    /// cancelled (cluster mode; returns at once in static mode). Run it beside the work:
    /// `async let _ = client.run()`, or in a task group.
    public func run() async {
        guard config.mode == .cluster else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: config.topology.refreshInterval)
            if Task.isCancelled { return }
            try? await refreshTopology()
        }
    }

    /// How many online replicas the shard serving `slot` has in the last topology read, or nil
    /// when unknown (static mode).
    public func onlineReplicas(for slot: HashSlot) -> Int? {
        guard let topology else { return nil }
        let value = Int(slot.rawValue)
        for shard in topology.shards where shard.slots.contains(where: { $0.contains(value) }) {
            return shard.replicas.filter { $0.health == "online" }.count
        }
        return nil
    }

    /// Starts a background refresh unless one is already running: however many redirects
    /// arrive at once, one refresh runs at a time.
    ///
    /// - Parameter minimumAge: Skip it when the last refresh finished less than this ago.
    public func requestRefresh(ifOlderThan minimumAge: Duration = .zero) {
        guard config.mode == .cluster else { return }
        let now = ContinuousClock.now
        let start = withState { state -> Bool in
            if state.refreshing { return false }
            if let last = state.lastRefresh, now - last < minimumAge { return false }
            state.refreshing = true
            return true
        }
        guard start else { return }
        Task {
            try? await refreshTopology(alreadyMarked: true)
        }
    }

    /// Reads the topology now and swaps the slot map as a whole; opens pools for new
    /// primaries and closes the pools of nodes that left the cluster.
    ///
    /// - Throws: when no known node answered with a usable topology.
    public func refreshTopology() async throws {
        try await refreshTopology(alreadyMarked: false)
    }

    private func refreshTopology(alreadyMarked: Bool) async throws {
        defer { withState { $0.refreshing = false; $0.refreshes += 1; $0.lastRefresh = .now } }
        if !alreadyMarked { withState { $0.refreshing = true } }
        let known = router.map.nodes.map(\.endpoint) + config.seeds.map { RedisEndpoint(host: $0.host, port: $0.port) }
        let pools = withState { $0.pools }
        let topology = try await Self.discover(from: known, connection: connectionOptions, pools: pools)
        let map = try topology.slotMap(previous: router.map)
        router.replace(with: map)
        let members = Set(topology.allNodes.map(\.address))
        let gone: [NodePool] = withState { state in
            state.topology = topology
            let names = state.pools.keys.filter { name in !members.contains(name) && !map.nodes.contains { $0.name == name } }
            return names.compactMap { state.pools.removeValue(forKey: $0) }
        }
        for node in map.nodes { _ = pool(for: node) }
        for pool in gone { pool.close() }
    }

    /// Asks each endpoint in turn for `CLUSTER SHARDS` (or `CLUSTER SLOTS` when the server
    /// does not know it) and returns the first topology that covers every slot.
    static func discover(
        from endpoints: [RedisEndpoint], connection: ConnectionOptions, pools: [String: NodePool]
    ) async throws -> ClusterTopology {
        var lastError: any Error = ClusterTopology.ParseError(description: "no seed to ask")
        var seen = Set<String>()
        for endpoint in endpoints where seen.insert(endpoint.address).inserted {
            let existing = pools[endpoint.name] ?? pools[endpoint.address]
            let pool = existing ?? NodePool(endpoint: endpoint, connection: connection, pool: PoolOptions(connections: 1))
            defer { if existing == nil { pool.close() } }
            do {
                let reply = try await pool.send(RESPCommand("CLUSTER", "SHARDS"))
                let topology = try ClusterTopology.parseShards(reply)
                _ = try topology.slotMap(previous: nil)
                return topology
            } catch let error as RedisError where error.isServerError && error.message.lowercased().contains("unknown subcommand") {
                do {
                    let topology = try ClusterTopology.parseSlots(try await pool.send(RESPCommand("CLUSTER", "SLOTS")))
                    _ = try topology.slotMap(previous: nil)
                    return topology
                } catch {
                    lastError = error
                }
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}
