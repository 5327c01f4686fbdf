public import SeckillRESP
public import SeckillTransport

extension ClusterClient {
    /// Commands for one slot, sent back to back and routed by the reply to the first of them
    /// (see ``ClusterClient/execute(_:slot:deadline:)``).
    ///
    /// While a slot migrates, the keys of one slot may sit on two nodes: put the commands of
    /// different keys in calls of their own, so each is routed to the node holding its key.
    public struct Call: Sendable {
        /// The slot the commands' keys hash to.
        public var slot: HashSlot
        /// The commands, in order.
        public var commands: [RESPCommand]

        /// Creates a call.
        ///
        /// - Parameters:
        ///   - slot: The slot the commands' keys hash to.
        ///   - commands: The commands, in order.
        public init(slot: HashSlot, commands: [RESPCommand]) {
            self.slot = slot
            self.commands = commands
        }
    }

    /// The replies to one ``Call`` and the node that gave them.
    public struct Answer: Sendable {
        /// The node that answered: the slot's owner, or the target of the last redirect followed.
        public var node: NodeConfig
        /// One reply per command, in order; error replies are values (``RESPValue/errorMessage``).
        public var replies: [RESPValue]
    }

    /// Runs many calls in one round trip per node: the calls are grouped by the node that owns
    /// their slot, each node's group goes out as one pipeline (consecutive pipelines of at most
    /// half the pool's in-flight limit when it is larger), and all nodes are asked at once.
    ///
    /// A call whose first reply is a redirect (`MOVED`, `ASK`) or says the command did not run
    /// (`TRYAGAIN`, `CLUSTERDOWN`, ...), or whose node could not be reached before anything
    /// was sent, is run again through ``execute(_:slot:deadline:)``, so the rules for
    /// following the cluster live in one place. A failure with an unknown outcome (timeout,
    /// connection lost after the write) is returned for every call of that pipeline, never
    /// resent.
    ///
    /// - Parameters:
    ///   - calls: The calls.
    ///   - deadline: When the call must have returned: no pipeline waits for replies past it, and
    ///     calls that are run again stop waiting out redirects and backoffs.
    /// - Returns: One answer or error per call, in order.
    public func execute(_ calls: [Call], deadline: ContinuousClock.Instant) async -> [Result<Answer, RedisError>] {
        guard !calls.isEmpty else { return [] }
        let map = router.map
        var groups = [[Int]](repeating: [], count: map.nodes.count)
        for (index, call) in calls.enumerated() { groups[map.nodeIndex(for: call.slot)].append(index) }

        var results = [Result<Answer, RedisError>?](repeating: nil, count: calls.count)
        var again: [Int] = []
        await withTaskGroup(of: [(Int, Outcome)].self) { group in
            for (position, indexes) in groups.enumerated() where !indexes.isEmpty {
                let node = map.nodes[position]
                group.addTask { await self.pipeline(calls, indexes, on: node, deadline: deadline) }
            }
            for await outcomes in group {
                for (index, outcome) in outcomes {
                    switch outcome {
                    case .done(let result): results[index] = result
                    case .route: again.append(index)
                    }
                }
            }
        }
        if !again.isEmpty {
            let routed = await routeEach(again.map { calls[$0] }, deadline: deadline)
            for (index, result) in zip(again, routed) { results[index] = result }
        }
        return results.map { $0! }
    }

    /// Runs `commands` once on `node` (one pipeline), without routing: for commands that
    /// address a node rather than a key (`SCAN`, `INFO`, `SCRIPT LOAD`). The node's pool is
    /// opened when the client has none yet.
    ///
    /// - Returns: The replies, in order; error replies are values.
    /// - Throws: ``RedisError`` for a transport failure.
    public func execute(_ commands: [RESPCommand], on node: NodeConfig) async throws -> [RESPValue] {
        try await pool(for: node).pipeline(commands)
    }

    /// Every key matching `pattern` on every node of the slot map, read with `SCAN` node by
    /// node (in cluster mode the primaries). A node that cannot be read fails the whole call:
    /// a listing that silently left one out would look complete.
    ///
    /// - Parameters:
    ///   - pattern: A `SCAN ... MATCH` pattern.
    ///   - type: Only keys of this type (`SCAN ... TYPE`), or every type when nil.
    /// - Returns: The keys, each once, in no particular order.
    /// - Throws: ``RedisError`` naming the node that could not be read.
    public func keys(matching pattern: String, type: String? = nil) async throws -> [String] {
        var keys = Set<String>()
        for node in nodes {
            var cursor = "0"
            repeat {
                var command = RESPCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
                if let type {
                    command.append("TYPE")
                    command.append(type)
                }
                let reply = try await execute([command], on: node)[0]
                if let message = reply.errorMessage { throw RedisError.server(message, node: node.name) }
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let found = parts[1].array else {
                    throw RedisError(code: .protocolError, delivery: .replied, node: node.name, message: "SCAN answered \(reply)")
                }
                for key in found {
                    if let text = key.string { keys.insert(text) }
                }
                cursor = next
            } while cursor != "0"
        }
        return Array(keys)
    }

    /// What became of one call of a node's pipeline.
    private enum Outcome: Sendable {
        /// Its answer or a failure that is final.
        case done(Result<Answer, RedisError>)
        /// Run it again through ``execute(_:slot:deadline:)``.
        case route
    }

    /// Sends the calls at `indexes` (all owned by `node`) in as few pipelines as the pool's
    /// in-flight limit allows, one after another.
    private func pipeline(
        _ calls: [Call], _ indexes: [Int], on node: NodeConfig, deadline: ContinuousClock.Instant
    ) async -> [(Int, Outcome)] {
        let pool = pool(for: node)
        // The pool refuses a pipeline longer than its in-flight limit outright; half of it
        // leaves room for other callers of the node.
        let limit = max(1, pool.poolOptions.maxInFlight / 2)
        var outcomes: [(Int, Outcome)] = []
        outcomes.reserveCapacity(indexes.count)
        var start = 0
        while start < indexes.count {
            var end = start
            var count = 0
            while end < indexes.count, end == start || count + calls[indexes[end]].commands.count <= limit {
                count += calls[indexes[end]].commands.count
                end += 1
            }
            let slice = indexes[start..<end]
            start = end
            let replies: [RESPValue]
            do {
                // Each pipeline waits at most the time the call has left.
                replies = try await pool.pipeline(slice.flatMap { calls[$0].commands }, within: deadline - ContinuousClock.now)
            } catch {
                let error = Self.redisError(error, node: node)
                for index in slice { outcomes.append((index, Self.unreachable(error) ? .route : .done(.failure(error)))) }
                continue
            }
            var offset = 0
            for index in slice {
                let count = calls[index].commands.count
                let own = Array(replies[offset..<offset + count])
                offset += count
                if let first = own.first, Self.needsRouting(first) {
                    outcomes.append((index, .route))
                } else {
                    outcomes.append((index, .done(.success(Answer(node: node, replies: own)))))
                }
            }
        }
        return outcomes
    }

    /// Runs each call through ``execute(_:slot:deadline:)``, up to 64 at a time.
    private func routeEach(_ calls: [Call], deadline: ContinuousClock.Instant) async -> [Result<Answer, RedisError>] {
        var results = [Result<Answer, RedisError>?](repeating: nil, count: calls.count)
        await withTaskGroup(of: (Int, Result<Answer, RedisError>).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                let call = calls[index]
                group.addTask {
                    do {
                        let routed = try await self.route(.many(call.commands), slot: call.slot, deadline: deadline)
                        return (index, .success(Answer(node: routed.node, replies: routed.replies.list)))
                    } catch {
                        return (index, .failure(Self.redisError(error, node: self.router.node(for: call.slot))))
                    }
                }
            }
            while next < min(calls.count, 64) { start() }
            for await (index, result) in group {
                results[index] = result
                if next < calls.count { start() }
            }
        }
        return results.map { $0! }
    }

    /// `error` as a ``RedisError``; anything else (a cancelled wait) has an unknown outcome.
    private static func redisError(_ error: any Error, node: NodeConfig) -> RedisError {
        if let error = error as? RedisError { return error }
        return RedisError(code: .cancelled, delivery: .unknown, node: node.name, message: "\(error)")
    }
}
