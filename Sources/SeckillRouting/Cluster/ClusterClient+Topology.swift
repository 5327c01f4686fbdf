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
        let generation = withState { state -> Int? in
            if state.refreshing { return nil }
            if let last = state.lastRefresh, now - last < minimumAge { return nil }
            return Self.beginRefresh(&state)
        }
        guard let generation else { return }
        Task {
            try? await refreshTopology(generation: generation)
        }
    }

    /// Reads the topology now and swaps the slot map as a whole; opens pools for new
    /// primaries and closes the pools of nodes that left the cluster.
    ///
    /// - Throws: when no known node answered with a usable topology.
    public func refreshTopology() async throws {
        let generation = withState { Self.beginRefresh(&$0) }
        try await refreshTopology(generation: generation)
    }

    /// How a refresh awaited by ``awaitRefresh(before:askingFirst:)`` ended.
    enum RefreshResult: Sendable, Hashable, CustomStringConvertible {
        /// A refresh that started after the call read the topology.
        case refreshed
        /// That refresh failed; the topology is unchanged.
        case failed(String)
        /// It had not finished by the deadline (or the task was cancelled).
        case timedOut

        var description: String {
            switch self {
            case .refreshed: "refreshed just now"
            case .failed(let reason): "the refresh just tried failed: \(reason)"
            case .timedOut: "no refresh finished before the call's deadline"
            }
        }
    }

    /// Waits, at most until `deadline`, for a refresh that starts after this call: starts one,
    /// or asks for another after the running one (whose answer may predate what the caller
    /// saw).
    ///
    /// - Parameters:
    ///   - deadline: When to stop waiting; the refresh itself goes on.
    ///   - source: A node to ask first, e.g. the one whose redirect named a node new to the
    ///     client: it knows that node, where others may not have heard of it yet.
    /// - Returns: Whether that refresh finished in time and read a topology.
    func awaitRefresh(before deadline: ContinuousClock.Instant, askingFirst source: NodeConfig? = nil) async -> RefreshResult {
        guard config.mode == .cluster else { return .failed("static mode has no topology") }
        let (id, start) = withState { state -> (Int, Int?) in
            if let source { state.refreshFirstFrom = source.endpoint }
            state.nextWaiter += 1
            state.refreshWaiters[state.nextWaiter] = .pending(generation: state.refreshesStarted + 1)
            if state.refreshing {
                state.refreshAgain = true
                return (state.nextWaiter, nil)
            }
            return (state.nextWaiter, Self.beginRefresh(&state))
        }
        if let start {
            Task { try? await refreshTopology(generation: start) }
        }
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.suspendUntilRefreshed(waiter: id) }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard finished else { return .timedOut }
        return withState { $0.lastRefreshError }.map(RefreshResult.failed) ?? .refreshed
    }

    /// Suspends until a refresh of the waiter's generation finishes (true) or the task is
    /// cancelled (false).
    private func suspendUntilRefreshed(waiter id: Int) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = withState { state -> Bool? in
                    guard case .pending(let generation) = state.refreshWaiters[id] else {
                        // Cancelled before it got here.
                        state.refreshWaiters[id] = nil
                        return false
                    }
                    if state.finishedGeneration >= generation {
                        state.refreshWaiters[id] = nil
                        return true
                    }
                    state.refreshWaiters[id] = .waiting(generation: generation, continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let continuation = withState { state -> CheckedContinuation<Bool, Never>? in
                switch state.refreshWaiters[id] {
                case .pending:
                    state.refreshWaiters[id] = .cancelled
                    return nil
                case .waiting(_, let continuation):
                    state.refreshWaiters[id] = nil
                    return continuation
                case .cancelled, nil:
                    return nil
                }
            }
            continuation?.resume(returning: false)
        }
    }

    /// Marks a refresh as running and returns its generation.
    private static func beginRefresh(_ state: inout State) -> Int {
        state.refreshing = true
        state.refreshesStarted += 1
        return state.refreshesStarted
    }

    private func refreshTopology(generation: Int) async throws {
        do {
            try await readTopology()
            finishRefresh(generation, error: nil)
        } catch {
            finishRefresh(generation, error: "\(error)")
            throw error
        }
    }

    /// Records the end of a refresh, wakes the callers waiting for it, and starts the
    /// refresh one of them asked for meanwhile.
    private func finishRefresh(_ generation: Int, error: String?) {
        let (ready, again) = withState { state -> ([CheckedContinuation<Bool, Never>], Int?) in
            state.refreshing = false
            state.refreshes += 1
            state.lastRefresh = .now
            if generation >= state.finishedGeneration {
                state.finishedGeneration = generation
                state.lastRefreshError = error
            }
            var ready: [CheckedContinuation<Bool, Never>] = []
            for (id, waiter) in state.refreshWaiters {
                if case .waiting(let wanted, let continuation) = waiter, wanted <= state.finishedGeneration {
                    state.refreshWaiters[id] = nil
                    ready.append(continuation)
                }
            }
            guard state.refreshAgain else { return (ready, nil) }
            state.refreshAgain = false
            return (ready, Self.beginRefresh(&state))
        }
        for continuation in ready { continuation.resume(returning: true) }
        if let again {
            Task { try? await refreshTopology(generation: again) }
        }
    }

    private func readTopology() async throws {
        let first = withState { state -> [RedisEndpoint] in
            defer { state.refreshFirstFrom = nil }
            return state.refreshFirstFrom.map { [$0] } ?? []
        }
        let known = first + router.map.nodes.map(\.endpoint) + config.seeds.map { RedisEndpoint(host: $0.host, port: $0.port) }
        let pools = withState { $0.pools }
        let topology = try await Self.discover(from: known, connection: connectionOptions, pools: pools)
        let map = try topology.slotMap(previous: router.map)
        let before = router.map
        router.replace(with: map)
        if logger.isEnabled(.info), before.nodes.map(\.name) != map.nodes.map(\.name) || before.nodes.map(\.slots) != map.nodes.map(\.slots)
        {
            logger.log(
                .info, "cluster topology changed",
                [
                    "primaries": map.nodes.map(\.name).joined(separator: ","),
                    "before": before.nodes.map(\.name).joined(separator: ","),
                ])
        }
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
