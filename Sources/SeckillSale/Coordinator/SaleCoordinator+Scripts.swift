import SeckillRESP
import SeckillRouting
import SeckillTransport

extension SaleCoordinator {
    /// The purchase script through `call`: the common case (its SHA known, no `WAIT`) first as
    /// one lean attempt (``ClusterClient/executeOnce(_:appending:slot:deadline:)``); whatever
    /// that attempt cannot settle goes on in ``run(_:keys:arguments:retryUnknownOutcome:requestID:durable:slot:prefix:deadline:failedAttempt:)``
    /// under the same deadline: an error reply (a redirect, `NOSCRIPT`, `TRYAGAIN`, ...) is
    /// sent again there as a new attempt, a failure is decided there as that loop's own first
    /// attempt (retried after the policy's pause, reported with its unknown outcome).
    @inline(__always)
    func runPurchase(_ call: PurchaseCall, arguments: [String], request: String) async throws(SaleError) -> (
        answer: [UInt8], replicas: Int?
    ) {
        // One clock read for the first attempt; the deadline on the clock the retry loop
        // uses is derived from it only when that loop runs.
        let started = MonotonicClock.now()
        var failed: RedisError?
        // A prefix made with a SHA the node has since lost answers NOSCRIPT, which the loop
        // below handles like any other error reply: no need to check the SHA again here.
        if options.durabilityReplicas == 0, let prefix = call.prefix {
            var reply: RESPValue?
            do {
                reply = try await client.executeOnce(
                    prefix.command, appending: arguments, slot: call.slot, startedAt: started, within: options.callDeadline)
            } catch let error as RedisError {
                failed = error
            } catch {
                throw Self.purchaseFailure(error)
            }
            // The answer's bytes are read in place: no String is made of them.
            switch reply {
            case .bulkString(let bytes)?: return (bytes, nil)
            case .simpleString(let text)?: return (Array(text.utf8), nil)
            case let other? where other.errorMessage == nil: throw unexpected(other, from: .purchase)
            default: break  // An error reply or a failure: the loop below decides.
            }
        }
        return try await runPurchaseLoop(call, arguments: arguments, request: request, startedAt: started, failedAttempt: failed)
    }

    /// A failure of the first attempt that is not a ``RedisError``; out of line (see
    /// ``attemptPurchase``).
    @inline(never)
    static func purchaseFailure(_ error: any Error) -> SaleError {
        SaleError(code: .redis, message: "purchase: \(error)")
    }

    /// ``unexpected(_:from:)`` for a reply value; out of line (see ``attemptPurchase``).
    @inline(never)
    func unexpected(_ reply: RESPValue, from script: SaleScript) -> SaleError {
        unexpected("\(reply)", from: script)
    }

    /// The rest of ``runPurchase(_:arguments:request:)`` after a first attempt that did not
    /// settle (or none): the retry loop, under the deadline counted from `started`. Out of
    /// line, so that the frames every purchase keeps while it waits do not hold this path's.
    @inline(never)
    func runPurchaseLoop(
        _ call: PurchaseCall, arguments: [String], request: String, startedAt started: UInt64, failedAttempt failed: RedisError?
    ) async throws(SaleError) -> (answer: [UInt8], replicas: Int?) {
        let deadline = ContinuousClock.now + options.callDeadline - .nanoseconds(Int64(clamping: MonotonicClock.now() &- started))
        let (answer, replicas) = try await run(
            .purchase, keys: call.keys, arguments: arguments, retryUnknownOutcome: true, requestID: request, durable: true,
            slot: call.slot, prefix: call.prefix, deadline: deadline, failedAttempt: failed)
        return (Array(answer.utf8), replicas)
    }

    /// Runs `script` on the node owning `keys[0]`, reloading it on `NOSCRIPT` and retrying
    /// failures that cannot have applied it, within the call deadline.
    ///
    /// - Parameters:
    ///   - retryUnknownOutcome: Whether the call may be sent again after a failure with an
    ///     unknown outcome; only for scripts that cannot apply twice.
    ///   - slot: The slot of `keys[0]`, when the caller knows it already.
    ///   - prefix: `EVALSHA sha numkeys keys...` prepared by the caller, used while `sha` is
    ///     the script's known SHA.
    ///   - deadline: When the call must have returned; nil for the call deadline from now.
    ///   - failedAttempt: The failure of an attempt the caller already made: decided as this
    ///     loop's first attempt (see ``runPurchase(_:arguments:request:)``).
    func run(
        _ script: SaleScript, keys: [String], arguments: [String], retryUnknownOutcome: Bool, requestID: String? = nil,
        durable: Bool = false, slot: HashSlot? = nil, prefix: ScriptPrefix? = nil, deadline: ContinuousClock.Instant? = nil,
        failedAttempt: RedisError? = nil
    ) async throws(SaleError) -> (answer: String, replicas: Int?) {
        let slot = slot ?? HashSlot(key: keys[0])
        let clock = ContinuousClock()
        let deadline = deadline ?? clock.now + options.callDeadline
        var failedAttempt = failedAttempt
        var wait = durable && options.durabilityReplicas > 0
        // WAIT blocks the whole shared connection until it returns: when the shard is known
        // to have fewer online replicas than asked (a freshly promoted primary), it would
        // block for its full timeout on every call. Skip it and report what is known.
        var knownReplicas: Int?
        if wait, let online = client.onlineReplicas(for: slot), online < options.durabilityReplicas {
            wait = false
            knownReplicas = online
            // A replica may have come back (or finished loading) since the last read.
            client.requestRefresh(ifOlderThan: .milliseconds(250))
        }
        let policy = options.retryPolicy
        var retries = 0
        var uncertain: RedisError?
        var sendSource = false
        var attempts = 0
        while true {
            attempts += 1
            // Looked up only when needed (loading a script, naming a node in an error):
            // `execute` routes the call itself.
            var node: NodeConfig { client.router.node(for: slot) }
            do {
                if let failed = failedAttempt {
                    failedAttempt = nil
                    throw failed
                }
                let command: RESPCommand
                // A prepared prefix is completed by the arguments as it is written.
                var appended: [String] = []
                if sendSource {
                    command = Self.eval(script.source, keys: keys, arguments: arguments)
                } else if let sha = knownSHA(script) {
                    if let prefix, prefix.sha == sha {
                        command = prefix.command
                        appended = arguments
                    } else {
                        command = Self.evalsha(sha, keys: keys, arguments: arguments)
                    }
                } else {
                    let sha = try await load(script, on: client.pool(for: node))
                    command = Self.evalsha(sha, keys: keys, arguments: arguments)
                }
                let reply: RESPValue
                var acknowledged: Int?
                if wait {
                    // On the same connection, right after the script: WAIT counts the
                    // replicas that have everything this connection wrote so far.
                    let waitCommand = RESPCommand(
                        "WAIT", String(options.durabilityReplicas), String(max(1, options.durabilityTimeout.milliseconds)))
                    let replies = try await client.execute([command.appending(appended), waitCommand], slot: slot, deadline: deadline)
                    reply = replies[0]
                    acknowledged = replies[1].int.map(Int.init)
                } else if appended.isEmpty {
                    reply = try await client.execute(command, slot: slot, deadline: deadline)
                } else {
                    reply = try await client.execute(command, appending: appended, slot: slot, deadline: deadline)
                }
                if let message = reply.errorMessage {
                    let error = RedisError.server(message, node: node.name)
                    if error.serverCode == "NOSCRIPT" && !sendSource {
                        // The node lost its scripts (restart, failover, SCRIPT FLUSH) or never
                        // had them (a new primary): the script did not run. EVAL with the
                        // source runs it and caches it there again. (Not bounded by attempts:
                        // a call that waited out an outage meets NOSCRIPT late.)
                        sendSource = true
                        continue
                    }
                    throw error
                }
                guard let text = reply.string else {
                    throw unexpected("\(reply)", from: script)
                }
                return (text, wait ? acknowledged : knownReplicas)
            } catch let error as RedisError {
                if error.outcomeUnknown { uncertain = error }
                // A cancelled task stops here: its sleep would end at once and the loop spin.
                guard
                    case .retry(let pause) = policy.decide(
                        error, idempotent: retryUnknownOutcome, attempt: retries + 1, now: clock.now, deadline: deadline), !Task.isCancelled
                else {
                    throw failure(script, node: node, error: error, uncertain: uncertain, attempts: attempts, requestID: requestID)
                }
                retries += 1
                client.logger.log(
                    .debug, "retrying \(script.rawValue)",
                    [
                        "node": node.name, "code": error.serverCode ?? "\(error.code)", "attempt": String(attempts),
                        "backoffMs": String(pause.milliseconds),
                    ])
                try? await Task.sleep(for: pause)
            } catch let error as SaleError {
                // SCRIPT LOAD failed. It never runs the sale script and may run twice, so the
                // policy treats it as idempotent; giving up still reports an earlier attempt
                // whose outcome is unknown.
                guard let redis = error.redis else { throw error }
                guard
                    case .retry(let pause) = policy.decide(
                        redis, idempotent: true, attempt: retries + 1, now: clock.now, deadline: deadline), !Task.isCancelled
                else {
                    throw failure(script, node: node, error: redis, uncertain: uncertain, attempts: attempts, requestID: requestID)
                }
                retries += 1
                try? await Task.sleep(for: pause)
            } catch {
                throw SaleError(code: .redis, message: "\(script.rawValue) on \(node.name): \(error)")
            }
        }
    }

    private func failure(
        _ script: SaleScript, node: NodeConfig, error: RedisError, uncertain: RedisError?, attempts: Int, requestID: String?
    ) -> SaleError {
        let saleError = describeFailure(script, node: node, error: error, uncertain: uncertain, attempts: attempts, requestID: requestID)
        let level: LogLevel = saleError.code == .outOfMemory ? .error : .warning
        client.logger.log(
            level, "\(script.rawValue) failed",
            [
                "node": node.name, "code": error.serverCode ?? "\(error.code)", "result": "\(saleError.code)",
                "attempts": String(attempts), "request": requestID ?? "",
            ])
        return saleError
    }

    private func describeFailure(
        _ script: SaleScript, node: NodeConfig, error: RedisError, uncertain: RedisError?, attempts: Int, requestID: String?
    ) -> SaleError {
        let tries = attempts == 1 ? "" : " after \(attempts) attempts"
        if let uncertain {
            let hint =
                requestID.map { "; call again with request id \($0) to learn the outcome" }
                ?? "; check the item's status before repeating it"
            return SaleError(
                code: .outcomeUnknown,
                message: "\(script.rawValue) on \(node.name) may or may not have been applied\(tries): \(uncertain.message)\(hint)",
                redis: error, requestID: requestID)
        }
        if error.serverCode == "OOM" {
            // The script's first write was refused, so nothing of it was applied (Redis refuses
            // only a script that has not written yet).
            return SaleError(
                code: .outOfMemory,
                message: "\(script.rawValue) not applied: \(node.name) is out of memory (used memory above maxmemory, "
                    + "policy noeviction); free memory or raise maxmemory on that node",
                redis: error, requestID: requestID)
        }
        return SaleError(code: .redis, message: "\(script.rawValue) failed\(tries): \(error)", redis: error, requestID: requestID)
    }

    /// `EVAL source numkeys keys... args...`: runs the script and caches it on the node.
    static func eval(_ source: String, keys: [String], arguments: [String]) -> RESPCommand {
        scriptCommand("EVAL", source, keys: keys, arguments: arguments)
    }

    /// `EVALSHA sha numkeys keys... args...`.
    static func evalsha(_ sha: String, keys: [String], arguments: [String]) -> RESPCommand {
        scriptCommand("EVALSHA", sha, keys: keys, arguments: arguments)
    }

    static func scriptCommand(_ name: String, _ script: String, keys: [String], arguments: [String]) -> RESPCommand {
        var command = RESPCommand(name)
        command.append(script)
        command.append(keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }

    /// `SCRIPT LOAD` on one node; Redis computes the SHA1 (Foundation on Linux has none).
    @discardableResult
    func load(_ script: SaleScript, on pool: NodePool) async throws(SaleError) -> String {
        let reply: RESPValue
        do {
            reply = try await pool.send(RESPCommand("SCRIPT", "LOAD", script.source))
        } catch {
            throw SaleError(
                code: .redis, message: "cannot load the \(script.rawValue) script on \(pool.endpoint): \(error)",
                redis: error as? RedisError)
        }
        guard let sha = reply.string, sha.utf8.count == 40 else {
            throw unexpected("\(reply)", from: script)
        }
        remember(script, sha: sha)
        return sha
    }
}
