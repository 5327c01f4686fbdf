public import SeckillRESP
import SeckillTransport

extension ClusterClient {
    /// Sends `commands` back to back on one connection of the node serving `slot`, and
    /// follows the cluster's answers to the first of them:
    /// - `MOVED slot host:port`: the slot has a new owner: the map is updated, the commands
    ///   resent there, and a topology refresh starts in the background;
    /// - `ASK slot host:port`: the slot is migrating: the commands go to that node once, each
    ///   after an `ASKING` (the flag lasts one command), and the map is left alone;
    /// - either of them only to a node of the last topology read (cluster mode): for an
    ///   address it does not list, the topology is refreshed first (waiting until `deadline`
    ///   at most) and the call fails when the refreshed topology does not list it either.
    ///   A static config never follows them: the call fails saying the node belongs to a
    ///   Redis Cluster and the config should use cluster mode. Either way nothing (no
    ///   command, no credentials) goes to an address neither the config nor the cluster named;
    /// - `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`: the command did not
    ///   run: resent after a backoff of 1 ms doubling to 100 ms, within `deadline`;
    /// - a node that cannot be reached (nothing sent): in cluster mode a refresh starts and
    ///   the commands are resent within `deadline`, so calls follow a failover.
    /// At most `topology.maxRedirects` redirects are followed in a row (a backoff for
    /// `TRYAGAIN` and the like starts the count again). Other error replies are
    /// returned as values; failures with an unknown outcome are thrown, never resent.
    ///
    /// This is the one place redirect and retry rules live: ``execute(_:deadline:)`` pipelines
    /// many calls per node and hands every call that met a redirect back to this path.
    ///
    /// - Returns: The replies, in order.
    /// - Throws: ``RedisError``.
    public func execute(_ commands: [RESPCommand], slot: HashSlot, deadline: ContinuousClock.Instant) async throws -> [RESPValue] {
        try await route(.many(commands), slot: slot, deadline: deadline).replies.list
    }

    /// ``execute(_:slot:deadline:)`` for a call of one command (the common case), without the
    /// arrays of a batch.
    ///
    /// - Returns: The reply; an error reply is returned as a value.
    /// - Throws: ``RedisError``.
    public func execute(_ command: RESPCommand, slot: HashSlot, deadline: ContinuousClock.Instant) async throws -> RESPValue {
        try await route(.one(command), slot: slot, deadline: deadline).replies.first
    }

    /// ``execute(_:slot:deadline:)`` for one command made of a prepared prefix and a call's own
    /// arguments (see ``RESPCommand/encode(appending:into:)``): the common case of a script call
    /// encodes its prefix once per item, not once per call.
    ///
    /// - Returns: The reply; an error reply is returned as a value.
    /// - Throws: ``RedisError``.
    public func execute(
        _ prefix: RESPCommand, appending arguments: [String], slot: HashSlot, deadline: ContinuousClock.Instant
    ) async throws -> RESPValue {
        try await route(.appended(prefix, arguments), slot: slot, deadline: deadline).replies.first
    }

    /// One attempt of ``execute(_:appending:slot:deadline:)`` on the node the map names, without
    /// following anything: the hot path's first try. The caller hands every error reply and
    /// every failure to the full route (after its own retry decision), so redirects and waits
    /// are still decided in one place; this only spares the common case the routing loop.
    ///
    /// - Returns: The reply, error replies included (counted in the node's metrics).
    /// - Throws: ``RedisError`` for a transport failure (counted too; a node that cannot be
    ///   reached also starts a topology refresh in cluster mode, as on the routing path).
    public func executeOnce(
        _ prefix: RESPCommand, appending arguments: [String], slot: HashSlot, deadline: ContinuousClock.Instant
    ) async throws -> RESPValue {
        try await executeOnce(prefix, appending: arguments, slot: slot, startedAt: MonotonicClock.now(), within: deadline - .now)
    }

    /// ``executeOnce(_:appending:slot:deadline:)`` for a caller that read ``MonotonicClock``
    /// when it started the call (`started`) and has `limit` left from then: the hot path
    /// reads the clock once before the reply instead of three times.
    @inline(__always)
    package func executeOnce(
        _ prefix: RESPCommand, appending arguments: [String], slot: HashSlot, startedAt started: UInt64, within limit: Duration
    ) async throws -> RESPValue {
        let (routes, index) = nodeRoutes(for: slot)
        let pool = routes.pools[index]
        let counters = routes.metrics[index]
        let reply: RESPValue
        do {
            reply = try await pool.request(prefix, appending: arguments, within: limit, startedAt: started)
        } catch let error as RedisError {
            await failedOnce(error, counters: counters, startedAt: started, within: limit)
            throw error
        }
        counters.commands(1, nanoseconds: MonotonicClock.now() &- started)
        if let message = reply.errorMessage {
            counters.error(code: RedisError.serverCode(of: message) ?? "ERR")
        }
        return reply
    }

    /// What a failed ``executeOnce(_:appending:slot:startedAt:within:)`` records and starts.
    /// Out of line: its clock instants (a type of unknown size to this module, allocated in
    /// the task at every call) would otherwise be allocated by every attempt.
    @inline(never)
    private func failedOnce(_ error: RedisError, counters: NodeMetrics, startedAt started: UInt64, within limit: Duration) async {
        let now = MonotonicClock.now()
        counters.commands(1, nanoseconds: now &- started)
        counters.error(code: "\(error.code)")
        // As on the routing path: a node that cannot be reached starts a topology refresh
        // at once (cluster mode), so the caller's retry can follow a failover.
        if Self.unreachable(error) {
            await refreshSoon(before: .now + limit - .nanoseconds(Int64(clamping: now &- started)))
        }
    }

    /// The commands of one routed call: one, or several sent back to back.
    enum CallCommands: Sendable {
        case one(RESPCommand)
        /// One command: a prefix completed by arguments.
        case appended(RESPCommand, [String])
        case many([RESPCommand])

        var count: Int {
            switch self {
            case .one, .appended: 1
            case .many(let commands): commands.count
            }
        }

        var isOne: Bool {
            if case .many = self { false } else { true }
        }

        var list: [RESPCommand] {
            switch self {
            case .one(let command): [command]
            case .appended(let prefix, let arguments): [prefix.appending(arguments)]
            case .many(let commands): commands
            }
        }
    }

    /// The replies of a routed call, shaped like its commands.
    enum CallReplies: Sendable {
        case one(RESPValue)
        case many([RESPValue])

        /// The first reply (a call has at least one command).
        var first: RESPValue {
            switch self {
            case .one(let reply): reply
            case .many(let replies): replies[0]
            }
        }

        var list: [RESPValue] {
            switch self {
            case .one(let reply): [reply]
            case .many(let replies): replies
            }
        }
    }

    /// ``execute(_:slot:deadline:)``, also saying which node gave the replies (the target of
    /// the last redirect followed).
    func route(
        _ call: CallCommands, slot: HashSlot, deadline: ContinuousClock.Instant
    ) async throws -> (node: NodeConfig, replies: CallReplies) {
        var redirects = 0
        var asking: NodeConfig?
        // Pauses of the shared policy (1 ms doubling to 100 ms); only did-not-run failures get here.
        let policy = RetryPolicy.shared
        var retries = 0
        while true {
            let node: NodeConfig
            let pool: NodePool
            let counters: NodeMetrics
            if let asking {
                node = asking
                (pool, counters) = poolAndMetrics(for: asking)
            } else {
                (node, pool, counters) = nodeRoute(for: slot)
            }
            let replies: CallReplies
            let started = ContinuousClock.now
            do {
                defer { counters.commands(call.count, elapsed: ContinuousClock.now - started) }
                // Each attempt waits at most the time the call has left.
                let left = deadline - started
                if asking != nil {
                    // ASKING lets only the next command in: every command of the call needs its own.
                    let answered = try await pool.pipeline(call.list.flatMap { [RESPCommand("ASKING"), $0] }, within: left)
                    let mine = stride(from: 1, to: answered.count, by: 2).map { answered[$0] }
                    replies = call.isOne ? .one(mine[0]) : .many(mine)
                } else {
                    switch call {
                    case .one(let command):
                        // The common case: one command, no batch bookkeeping.
                        replies = .one(try await pool.request(command, within: left))
                    case .appended(let prefix, let arguments):
                        replies = .one(try await pool.request(prefix, appending: arguments, within: left))
                    case .many(let commands) where commands.count == 1:
                        replies = .many([try await pool.request(commands[0], within: left)])
                    case .many(let commands):
                        replies = .many(try await pool.pipeline(commands, within: left))
                    }
                }
            } catch let error as RedisError where Self.unreachable(error) {
                counters.error(code: "\(error.code)")
                asking = nil
                if config.mode == .cluster { await refreshSoon(before: deadline) }
                retries += 1
                let pause = policy.backoff(retry: retries)
                guard config.mode == .cluster, ContinuousClock.now + pause < deadline else { throw error }
                logger.log(
                    .debug, "node unreachable, retrying after a topology refresh",
                    [
                        "node": node.name, "code": "\(error.code)", "backoff": "\(pause)",
                    ])
                try await waitToResend(pause, node: node)
                continue
            } catch let error as RedisError {
                counters.error(code: "\(error.code)")
                throw error
            }
            asking = nil
            guard let message = replies.first.errorMessage else { return (node, replies) }
            counters.error(code: RedisError.serverCode(of: message) ?? "ERR")
            let words = message.split(separator: " ")
            switch words.first.map(String.init) {
            case "MOVED", "ASK":
                guard let redirect = Redirect(message: message) else { return (node, replies) }
                let target = try await target(of: redirect, from: node, deadline: deadline)
                redirects += 1
                metrics(forNode: node.name).redirect()
                logger.log(
                    .debug, "redirect followed",
                    [
                        "node": node.name, "kind": redirect.kind.rawValue, "slot": String(redirect.slot), "to": target.name,
                    ])
                guard redirects <= config.topology.maxRedirects else {
                    throw RedisError(
                        code: .serverError, delivery: .replied, node: node.name, serverCode: String(words[0]),
                        message: "gave up after \(config.topology.maxRedirects) redirects for slot \(slot.rawValue): \(message)")
                }
                if redirect.kind == .moved {
                    router.reassign(slot, to: target)
                    await refreshSoon(before: deadline)
                } else {
                    asking = target
                }
            case let code? where Self.notRunCodes.contains(code):
                if words[0] != "TRYAGAIN" { await refreshSoon(before: deadline) }
                retries += 1
                let pause = policy.backoff(retry: retries)
                guard ContinuousClock.now + pause < deadline else { return (node, replies) }
                logger.log(.debug, "command did not run, retrying", ["node": node.name, "code": code])
                try await waitToResend(pause, node: node)
                // The redirect limit stops loops without a pause. A multi-key command on a
                // migrating slot goes ASK (source) -> TRYAGAIN (target) until the move ends;
                // counting those ASKs would give up after a few milliseconds, not at the deadline.
                redirects = 0
            default:
                return (node, replies)
            }
        }
    }

    /// Waits `duration` before a resend; a cancelled caller gets `cancelled` at once instead
    /// (nothing of the resend was sent).
    private func waitToResend(_ duration: Duration, node: NodeConfig) async throws {
        try? await Task.sleep(for: duration)
        if Task.isCancelled {
            throw RedisError(
                code: .cancelled, delivery: .notSent, node: node.name,
                message: "the calling task was cancelled while waiting to resend a command that did not run")
        }
    }

    /// Whether a call's first reply is one ``execute(_:slot:deadline:)`` acts on: a redirect
    /// (`MOVED`, `ASK`) or an error saying the command did not run and may be sent again.
    static func needsRouting(_ reply: RESPValue) -> Bool {
        guard let message = reply.errorMessage else { return false }
        let code = String(message.prefix { $0 != " " })
        return code == "MOVED" || code == "ASK" || notRunCodes.contains(code)
    }

    /// Error replies saying the command did not run, which ``execute(_:slot:deadline:)``
    /// waits out and sends again.
    private static let notRunCodes: Set<String> = ["TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN", "READONLY"]

    /// Whether a transport failure means the node could not be reached before anything was
    /// sent (retried in cluster mode), rather than the pool refusing the call itself.
    static func unreachable(_ error: RedisError) -> Bool {
        error.delivery == .notSent && error.code != .overloaded && error.code != .poolClosed
    }

    /// The node to follow `redirect` to: a node of the topology, after a refresh (awaited
    /// until `deadline` at most, asking `node` first: it knows the node it named) when the
    /// address is new to the client.
    ///
    /// - Throws: ``RedisError`` when the redirect is not followed: always in static mode,
    ///   and in cluster mode when the refreshed topology does not list the address.
    private func target(of redirect: Redirect, from node: NodeConfig, deadline: ContinuousClock.Instant) async throws -> NodeConfig {
        var refresh: RefreshResult?
        while true {
            switch redirect.decision(mode: config.mode, topology: topology, mapNodes: router.map.nodes, refreshed: refresh != nil) {
            case .follow(let target):
                return target
            case .refreshTopology:
                refresh = await awaitRefresh(before: deadline, askingFirst: node)
                if Task.isCancelled {
                    throw RedisError(
                        code: .cancelled, delivery: .notSent, node: node.name,
                        message: "the calling task was cancelled while the topology was refreshed for a redirect")
                }
            case .refuse(let refusal):
                throw redirect.error(refusal, from: node, source: config.source, refresh: refresh?.description ?? "not refreshed")
            }
        }
    }
}
