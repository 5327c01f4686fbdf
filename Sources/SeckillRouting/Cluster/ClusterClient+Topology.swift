import SeckillRESP
import SeckillTransport

extension ClusterClient {
    /// Owns the client's background work until the task is cancelled or the client is shut
    /// down (``shutdown(timeout:)``, ``close()``): in cluster mode it refreshes the topology
    /// every `topology.refreshIntervalMs`, and it runs the refreshes the client asks for and
    /// the connect attempts of every pool, each as a child task. Run it beside the work:
    /// `async let _ = client.run()`, or in a task group. Nothing it started outlives it: on
    /// return every refresh and connect attempt it ran has ended.
    ///
    /// The client also works without it, and then nothing runs in the background: a call that
    /// needs a refresh (a redirect to a node new to the client, a node that cannot be
    /// reached, a slot that moved) reads the topology itself, inline, within the call's
    /// deadline, unless a refresh is already running (then it waits for that one, or goes on
    /// without); a call that needs a connection (none open to its node, or all busy and a
    /// slot free) opens it itself (see ``NodePool/run()``).
    /// ``requestRefresh(ifOlderThan:)``,
    /// a hint that expects no answer, does nothing then. Either way one refresh runs at a time.
    public func run() async {
        await withDiscardingTaskGroup { group in
            if config.mode == .cluster {
                group.addTask { await self.refreshPeriodically() }
            }
            await work.run()
            group.cancelAll()
        }
    }

    /// Starts a refresh every `topology.refreshIntervalMs` until cancelled, as work of
    /// ``run()`` (so that ending the work queue ends it too); a refresh already running when
    /// one is due counts as that one.
    private func refreshPeriodically() async {
        let interval = config.topology.refreshInterval
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            guard let generation = withState({ $0.refreshing || $0.shutDown ? nil : Self.beginRefresh(&$0) }) else { continue }
            guard work.submit({ [self] in await performRefresh(generation, before: nil) }) else {
                abandonRefresh(generation)
                return
            }
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

    /// Asks ``run()`` for a refresh unless one is already running: however many hints arrive
    /// at once, one refresh runs at a time. Without a running `run()` it does nothing (calls
    /// that need a refresh do it themselves, see ``run()``).
    ///
    /// - Parameter minimumAge: Skip it when the last refresh finished less than this ago.
    public func requestRefresh(ifOlderThan minimumAge: Duration = .zero) {
        guard config.mode == .cluster, work.isRunning else { return }
        let now = ContinuousClock.now
        let generation = withState { state -> Int? in
            if state.refreshing || state.shutDown { return nil }
            if let last = state.lastRefresh, now - last < minimumAge { return nil }
            return Self.beginRefresh(&state)
        }
        guard let generation else { return }
        if !work.submit({ [self] in await performRefresh(generation, before: nil) }) {
            abandonRefresh(generation)
        }
    }

    /// Starts a refresh unless one is running, and returns: with ``run()`` running it runs
    /// there; without, here, within `deadline`. For calls that go on either way (a slot that
    /// moved, a node that could not be reached).
    func refreshSoon(before deadline: ContinuousClock.Instant) async {
        guard config.mode == .cluster else { return }
        guard let generation = withState({ $0.refreshing || $0.shutDown ? nil : Self.beginRefresh(&$0) }) else { return }
        await startRefresh(generation, before: deadline)
    }

    /// Reads the topology now, in the calling task, and swaps the slot map as a whole; opens
    /// pools for new primaries and closes the pools of nodes that left the cluster. When a
    /// refresh is already running it waits for that one, then reads again (the running one
    /// may have started before what the caller saw). In static mode there is nothing to read:
    /// it returns at once.
    ///
    /// - Throws: when no known node answered with a usable topology, the client is shut down,
    ///   or the task is cancelled (``RedisError`` `cancelled`).
    public func refreshTopology() async throws {
        guard config.mode == .cluster else { return }
        switch await refresh(before: nil, askingFirst: nil, inline: true) {
        case .refreshed:
            return
        case .failed(let reason):
            if withState({ $0.shutDown }) {
                throw RedisError(code: .poolClosed, delivery: .notSent, node: "", message: "the client is shut down: \(reason)")
            }
            throw withState { $0.lastRefreshError } ?? RedisError(code: .connectFailed, delivery: .notSent, node: "", message: reason)
        case .timedOut:
            throw RedisError(
                code: .cancelled, delivery: .notSent, node: "", message: "the calling task was cancelled before the topology was read")
        }
    }

    /// Why the last refresh failed; nil when it read a topology (or none has run).
    public var lastRefreshError: (any Error)? { withState { $0.lastRefreshError } }

    /// How a refresh awaited by ``awaitRefresh(before:askingFirst:)`` ended.
    enum RefreshResult: Sendable, CustomStringConvertible {
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

    /// Waits, at most until `deadline`, for a refresh that starts after this call: starts one
    /// (in ``run()``, or here without it), or waits for the running one to end and then
    /// starts the next (the running one's answer may predate what the caller saw).
    ///
    /// - Parameters:
    ///   - deadline: When to stop waiting; a refresh running in ``run()`` goes on.
    ///   - source: A node to ask first, e.g. the one whose redirect named a node new to the
    ///     client: it knows that node, where others may not have heard of it yet.
    /// - Returns: Whether that refresh finished in time and read a topology.
    func awaitRefresh(before deadline: ContinuousClock.Instant, askingFirst source: NodeConfig? = nil) async -> RefreshResult {
        guard config.mode == .cluster else { return .failed("static mode has no topology") }
        return await refresh(before: deadline, askingFirst: source, inline: false)
    }

    /// What a caller of ``refresh(before:askingFirst:inline:)`` does next.
    private enum RefreshStep {
        case done(RefreshResult)
        case start(generation: Int)
        case wait(waiter: Int)
    }

    /// The loop behind ``awaitRefresh(before:askingFirst:)`` and ``refreshTopology()``.
    ///
    /// - Parameter inline: Run a refresh this caller starts here even when ``run()`` runs.
    private func refresh(before deadline: ContinuousClock.Instant?, askingFirst source: NodeConfig?, inline: Bool) async -> RefreshResult {
        let wanted = withState { state -> Int in
            if let source { state.refreshFirstFrom = source.endpoint }
            return state.refreshesStarted + 1
        }
        while true {
            if Task.isCancelled { return .timedOut }
            if let deadline, ContinuousClock.now >= deadline { return .timedOut }
            let step = withState { state -> RefreshStep in
                if state.shutDown { return .done(.failed("the client is shut down")) }
                if state.finishedGeneration >= wanted {
                    return .done(state.lastRefreshError.map { .failed("\($0)") } ?? .refreshed)
                }
                if state.refreshing {
                    state.nextWaiter += 1
                    state.refreshWaiters[state.nextWaiter] = .pending
                    return .wait(waiter: state.nextWaiter)
                }
                return .start(generation: Self.beginRefresh(&state))
            }
            switch step {
            case .done(let result):
                return result
            case .start(let generation):
                if inline {
                    await performRefresh(generation, before: deadline)
                } else {
                    await startRefresh(generation, before: deadline)
                }
            case .wait(let id):
                guard let deadline else {
                    _ = await suspendUntilRefreshEnds(waiter: id)
                    continue
                }
                let ended = await withTaskGroup(of: Bool.self) { group in
                    group.addTask { await self.suspendUntilRefreshEnds(waiter: id) }
                    group.addTask {
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        return false
                    }
                    let first = await group.next() ?? false
                    group.cancelAll()
                    return first
                }
                if !ended { return .timedOut }
            }
        }
    }

    /// Suspends until the running refresh ends (true) or the task is cancelled (false).
    private func suspendUntilRefreshEnds(waiter id: Int) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = withState { state -> Bool? in
                    switch state.refreshWaiters[id] {
                    case .pending:
                        state.refreshWaiters[id] = .waiting(continuation)
                        return nil
                    case .ended:
                        state.refreshWaiters[id] = nil
                        return true
                    case .cancelled, .waiting, nil:
                        state.refreshWaiters[id] = nil
                        return false
                    }
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let continuation = withState { state -> CheckedContinuation<Bool, Never>? in
                switch state.refreshWaiters[id] {
                case .pending:
                    state.refreshWaiters[id] = .cancelled
                    return nil
                case .waiting(let continuation):
                    state.refreshWaiters[id] = nil
                    return continuation
                case .ended, .cancelled, nil:
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

    /// Runs refresh `generation` (already begun): hands it to ``run()`` when one is running,
    /// or runs it here within `deadline`.
    private func startRefresh(_ generation: Int, before deadline: ContinuousClock.Instant?) async {
        if work.submit({ [self] in await performRefresh(generation, before: nil) }) { return }
        await performRefresh(generation, before: deadline)
    }

    /// Reads the topology for refresh `generation` and records how it ended: a failure is
    /// logged and kept (``lastRefreshError``); a refresh cancelled with its task (``run()``
    /// ending, an inline caller cancelled) or cut short by a shutdown is given up without a
    /// verdict, and a caller still waiting starts the next one.
    private func performRefresh(_ generation: Int, before deadline: ContinuousClock.Instant?) async {
        do {
            if let deadline {
                try await readTopology(before: deadline)
            } else {
                try await readTopology()
            }
            finishRefresh(generation, error: nil)
        } catch {
            if Task.isCancelled || withState({ $0.shutDown }) {
                abandonRefresh(generation)
                return
            }
            logger.log(.warning, "topology refresh failed", ["reason": "\(error)"])
            finishRefresh(generation, error: error)
        }
    }

    /// ``readTopology()``, given up with `timeout` at `deadline`.
    private func readTopology(before deadline: ContinuousClock.Instant) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.readTopology()
                return true
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            defer { group.cancelAll() }
            if try await group.next() != true {
                throw RedisError(
                    code: .timeout, delivery: .notSent, node: "",
                    message: "no node answered with a topology before the call's deadline")
            }
        }
    }

    /// Records the end of a refresh and wakes the callers waiting for it.
    private func finishRefresh(_ generation: Int, error: (any Error)?) {
        let ready = withState { state -> [CheckedContinuation<Bool, Never>] in
            state.refreshes += 1
            state.lastRefresh = .now
            if generation >= state.finishedGeneration {
                state.finishedGeneration = generation
                state.lastRefreshError = error
            }
            return state.endRefresh()
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Gives up refresh `generation` without a verdict; the callers waiting for it look again.
    private func abandonRefresh(_ generation: Int) {
        let ready = withState { $0.endRefresh() }
        for continuation in ready { continuation.resume(returning: true) }
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
            try Task.checkCancellation()
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
