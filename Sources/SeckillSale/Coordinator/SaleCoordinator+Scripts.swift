import SeckillRESP
import SeckillRouting
import SeckillTransport

extension SaleCoordinator {
    /// Runs `script` on the node owning `keys[0]`, reloading it on `NOSCRIPT` and retrying
    /// failures that cannot have applied it, within the call deadline.
    ///
    /// - Parameter retryUnknownOutcome: Whether the call may be sent again after a failure
    ///   with an unknown outcome; only for scripts that cannot apply twice.
    func run(
        _ script: SaleScript, keys: [String], arguments: [String], retryUnknownOutcome: Bool, requestID: String? = nil
    ) async throws(SaleError) -> String {
        let (node, pool) = client.pool(forKey: keys[0])
        let clock = ContinuousClock()
        let deadline = clock.now + options.callDeadline
        var backoff = options.minBackoff
        var uncertain: RedisError?
        var attempts = 0
        while true {
            attempts += 1
            do {
                let sha = try await sha(for: script, on: pool)
                let reply = try await pool.send(Self.evalsha(sha, keys: keys, arguments: arguments))
                guard let text = reply.string else {
                    throw unexpected("\(reply)", from: script)
                }
                return text
            } catch let error as RedisError {
                if error.serverCode == "NOSCRIPT" && attempts < 8 {
                    // The node lost its scripts (restart, failover, SCRIPT FLUSH): the script
                    // did not run, so load it again and resend.
                    forget(script)
                    continue
                }
                if error.outcomeUnknown { uncertain = error }
                let retryable: Bool
                if error.code == .overloaded || error.code == .authenticationFailed || error.code == .poolClosed {
                    retryable = false
                } else if error.commandDidNotRun {
                    retryable = true
                } else {
                    retryable = error.outcomeUnknown && retryUnknownOutcome
                }
                if !retryable || clock.now + backoff > deadline {
                    throw failure(script, node: node, error: error, uncertain: uncertain, attempts: attempts, requestID: requestID)
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, options.maxBackoff)
            } catch let error as SaleError {
                throw error
            } catch {
                throw SaleError(code: .redis, message: "\(script.rawValue) on \(node.name): \(error)")
            }
        }
    }

    private func failure(
        _ script: SaleScript, node: NodeConfig, error: RedisError, uncertain: RedisError?, attempts: Int, requestID: String?
    ) -> SaleError {
        let tries = attempts == 1 ? "" : " after \(attempts) attempts"
        if let uncertain {
            let hint = requestID.map { "; call again with request id \($0) to learn the outcome" } ?? "; check the item's status before repeating it"
            return SaleError(
                code: .outcomeUnknown,
                message: "\(script.rawValue) on \(node.name) may or may not have been applied\(tries): \(uncertain.message)\(hint)",
                redis: error)
        }
        return SaleError(code: .redis, message: "\(script.rawValue) failed\(tries): \(error)", redis: error)
    }

    static func evalsha(_ sha: String, keys: [String], arguments: [String]) -> RESPCommand {
        var command = RESPCommand("EVALSHA")
        command.append(sha)
        command.append(keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }

    /// The script's SHA1, loading it on `pool`'s node when not known yet.
    func sha(for script: SaleScript, on pool: NodePool) async throws -> String {
        if let known = knownSHA(script) { return known }
        return try await load(script, on: pool)
    }

    /// `SCRIPT LOAD` on one node; Redis computes the SHA1 (Foundation on Linux has none).
    @discardableResult
    func load(_ script: SaleScript, on pool: NodePool) async throws(SaleError) -> String {
        let reply: RESPValue
        do {
            reply = try await pool.send(RESPCommand("SCRIPT", "LOAD", script.source))
        } catch {
            throw SaleError(code: .redis, message: "cannot load the \(script.rawValue) script on \(pool.endpoint): \(error)", redis: error as? RedisError)
        }
        guard let sha = reply.string, sha.utf8.count == 40 else {
            throw unexpected("\(reply)", from: script)
        }
        remember(script, sha: sha)
        return sha
    }
}
