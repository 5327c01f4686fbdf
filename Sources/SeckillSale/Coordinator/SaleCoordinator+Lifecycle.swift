import SeckillRESP
import SeckillRouting
import SeckillTransport

/// The answer to an unpublish.
public enum UnpublishResult: Sendable, Hashable {
    /// The item and every key under its hash tag were removed (`keys` counts them).
    case removed(keys: Int)
    /// No item with this id was published.
    case unknownItem
}

extension SaleCoordinator {
    /// Removes `item` and everything under its hash tag: counters, buyers, orders, cancellations
    /// and request records. A request id used before is evaluated afresh if the item is
    /// published again.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - force: Remove an item that has sales (its buyers and orders are deleted with it);
    ///     without it such an item is refused with ``SaleError/Code/hasSales``.
    /// - Returns: How many keys were removed, or ``UnpublishResult/unknownItem``.
    public func unpublish(_ item: String, force: Bool = false) async throws(SaleError) -> UnpublishResult {
        try SaleInput.validateItem(item)
        let keys = ItemKeys(item: item)
        defer { forgetShed(item) }
        let answer = try await run(.unpublish, keys: keys.all, arguments: [force ? "1" : "0"], retryUnknownOutcome: true).answer
        let fields = answer.split(separator: "|", omittingEmptySubsequences: false)
        var removed: Int
        switch fields.first {
        case "OK" where fields.count == 2:
            guard let count = Int(fields[1]) else { throw unexpected(answer, from: .unpublish) }
            removed = count
        case "B" where fields.count == 1:
            let result = try await unpublishBuckets(item, force: force)
            try await unregisterPayments(item)
            return result
        case "H" where fields.count == 3:
            throw SaleError(
                code: .hasSales,
                message:
                    "item \(item) has sales (\(fields[1]) units sold, \(fields[2]) order entries); pass force: true (seckill unpublish --force) to remove it with its buyers and orders"
            )
        default:
            throw unexpected(answer, from: .unpublish)
        }
        // Keys an earlier version left under the tag (one request record per attempt).
        removed += try await removeStrays(of: keys)
        try await unregisterPayments(item)
        return removed == 0 ? .unknownItem : .removed(keys: removed)
    }

    /// Deletes keys under the item's tag that are not among ``ItemKeys/all`` (request records
    /// of earlier versions), found with `SCAN MATCH` on the owning node.
    private func removeStrays(of keys: ItemKeys) async throws(SaleError) -> Int {
        let known = Set(keys.all)
        let pattern = Self.globEscaped(keys.meta) + ":*"
        var cursor = "0"
        var removed = 0
        repeat {
            let reply: RESPValue
            do {
                reply = try await client.send(
                    RESPCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"), key: keys.meta,
                    deadline: ContinuousClock.now + options.callDeadline)
            } catch {
                throw SaleError(code: .redis, message: "cannot list the keys of \(keys.item): \(error)", redis: error as? RedisError)
            }
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let found = parts[1].array else {
                throw unexpected("\(reply)", from: .unpublish)
            }
            let strays = found.compactMap(\.string).filter { !known.contains($0) }
            if !strays.isEmpty {
                var command = RESPCommand("DEL")
                for key in strays { command.append(key) }
                do {
                    removed += Int(
                        try await client.send(command, key: keys.meta, deadline: ContinuousClock.now + options.callDeadline).int ?? 0)
                } catch {
                    throw SaleError(code: .redis, message: "cannot remove the keys of \(keys.item): \(error)", redis: error as? RedisError)
                }
            }
            cursor = next
        } while cursor != "0"
        return removed
    }

    /// `text` with the glob characters of `SCAN MATCH` escaped.
    static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Reads every node's `maxmemory-policy` and refuses any other than `noeviction`, unless
    /// ``SaleOptions/allowEvictionPolicy`` is set: an evicting node may drop an item's request
    /// records or buyers mid-sale, and then a retried request buys twice or a user exceeds the
    /// limit. Each node is read once per coordinator.
    ///
    /// - Throws: ``SaleError/Code/unsafeNode`` naming the node, its policy and the fix, or
    ///   ``SaleError/Code/redis`` when a node cannot be read.
    public func checkNodes() async throws(SaleError) {
        for node in client.nodes {
            try await checkNode(node)
        }
    }

    /// ``checkNodes()`` for the node owning `key` only.
    func checkNode(owning key: String) async throws(SaleError) {
        try await checkNode(client.router.node(forKey: key))
    }

    private func checkNode(_ node: NodeConfig) async throws(SaleError) {
        if options.allowEvictionPolicy || checkedNodes.withLock({ $0.contains(node.name) }) { return }
        let reply: RESPValue
        do {
            reply = try await client.execute([RESPCommand("CONFIG", "GET", "maxmemory-policy")], on: node)[0]
            if let message = reply.errorMessage { throw RedisError.server(message, node: node.name) }
        } catch {
            throw SaleError(
                code: .redis,
                message: "cannot read maxmemory-policy of \(node.name) (\(node.endpoint)): \(error); a sale needs noeviction "
                    + "(set sale.allowEvictionPolicy in cluster.json to run without this check)",
                redis: error as? RedisError)
        }
        let policy = Self.configValue(reply)
        guard policy == "noeviction" else {
            throw SaleError(
                code: .unsafeNode,
                message: "node \(node.name) (\(node.endpoint)) has maxmemory-policy \(policy ?? "?"): under memory pressure it may "
                    + "evict request records, buyers or stock, and a retried purchase could then buy twice. Fix: "
                    + "`CONFIG SET maxmemory-policy noeviction` on that node (and in its redis.conf); or, knowingly, "
                    + "set \"sale\": {\"allowEvictionPolicy\": true} in cluster.json (--allow-eviction-policy on the command line)")
        }
        _ = checkedNodes.withLock { $0.insert(node.name) }
    }

    /// The value of a `CONFIG GET` reply: a flat array in RESP2, a map in RESP3.
    private static func configValue(_ reply: RESPValue) -> String? {
        if let pairs = reply.array, pairs.count >= 2 { return pairs[1].string }
        if case .map(let flat) = reply, flat.count >= 2 { return flat[1].string }
        return nil
    }
}
