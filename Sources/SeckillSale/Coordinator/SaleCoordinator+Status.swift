import SeckillRESP
import SeckillRouting
import SeckillTransport

extension SaleCoordinator {
    /// Reads many items' counters in one round trip per node: `HMGET` of the item hash and
    /// `HLEN` of the buyers, pipelined per node through ``ClusterClient/execute(_:deadline:)``,
    /// the route every sale operation takes. An item whose slot is moving is followed to the
    /// node holding its keys (`ASK`, `MOVED`), so it is never reported unpublished because it
    /// was asked on the old owner.
    ///
    /// - Parameter items: Item ids.
    /// - Returns: One status per item, in order; nil for an item that was never published.
    /// - Throws: ``SaleError`` for an invalid item id, or naming the first item that could
    ///   not be read (a node down, an error reply).
    public func status(_ items: [String]) async throws(SaleError) -> [ItemStatus?] {
        for item in items { try SaleInput.validateItem(item) }
        // A call per key: mid-move an item's hash and buyers may sit on different nodes, and a
        // call is routed by its first reply.
        var calls: [ClusterClient.Call] = []
        calls.reserveCapacity(items.count * 2)
        for item in items {
            let keys = ItemKeys(item: item)
            let slot = HashSlot(key: keys.meta)
            calls.append(.init(slot: slot, commands: [RESPCommand("HMGET", keys.meta, "total", "sold", "limit", "start", "end", "epoch")]))
            calls.append(.init(slot: slot, commands: [RESPCommand("HLEN", keys.buyers)]))
        }
        let answers = await client.execute(calls, deadline: ContinuousClock.now + options.callDeadline)
        var results: [ItemStatus?] = []
        results.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let meta = try reply(answers[index * 2], reading: item)
            let buyers = try reply(answers[index * 2 + 1], reading: item)
            let fields = meta.value.array ?? []
            guard fields.count == 6, let total = fields[0].int else {
                results.append(nil)
                continue
            }
            results.append(
                ItemStatus(
                    item: item, total: Int(total), sold: Int(fields[1].int ?? 0), limit: Int(fields[2].int ?? 0),
                    window: SaleWindow(startsAtMs: fields[3].int, endsAtMs: fields[4].int),
                    epoch: Int(fields[5].int ?? 0), buyers: Int(buyers.value.int ?? 0), node: meta.node.name))
        }
        // A bucketed item's root hash has no total: read its buckets.
        for index in results.indices where results[index] == nil { results[index] = try await bucketedStatus(items[index]) }
        return results
    }

    /// Every item published on any node, found with `SCAN` on each node of the client's map
    /// (for operators; a sale's own code should know its items).
    ///
    /// - Returns: Item ids, sorted, each once.
    /// - Throws: ``SaleError`` naming a node that could not be read: the list is never
    ///   returned without it.
    public func allItems() async throws(SaleError) -> [String] {
        let keys: [String]
        do {
            keys = try await client.keys(matching: "seckill:{*}", type: "hash")
        } catch {
            let node = (error as? RedisError)?.node ?? "a node"
            throw SaleError(code: .redis, message: "cannot list items on \(node): \(error)", redis: error as? RedisError)
        }
        return Set(keys.compactMap(ItemKeys.item(fromMetaKey:))).sorted()
    }

    /// One page of an item's buyers (`HSCAN`).
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - cursor: "0" for the first page, then the page's ``BuyersPage/next``.
    ///   - count: A hint of how many buyers per page.
    /// - Returns: The page.
    public func buyers(_ item: String, cursor: String = "0", count: Int = 100) async throws(SaleError) -> BuyersPage {
        try SaleInput.validateItem(item)
        if let layout = buckets.layout(item) { return try await bucketBuyers(layout, cursor: cursor, count: count) }
        if cursor.contains(":") {
            guard let layout = try await loadLayout(item) else { return BuyersPage(buyers: [], next: nil) }
            return try await bucketBuyers(layout, cursor: cursor, count: count)
        }
        let keys = ItemKeys(item: item)
        let reply: RESPValue
        do {
            reply = try await client.send(
                RESPCommand("HSCAN", keys.buyers, cursor, "COUNT", String(max(1, count))), key: keys.meta,
                deadline: ContinuousClock.now + options.callDeadline)
        } catch {
            throw SaleError(code: .redis, message: "cannot read the buyers of \(item): \(error)", redis: error as? RedisError)
        }
        let (next, buyers) = try buyersPage(reply)
        if cursor == "0" && next == "0" && buyers.isEmpty, let layout = try await loadLayout(item) {
            return try await bucketBuyers(layout, cursor: "0:0", count: count)
        }
        return BuyersPage(buyers: buyers, next: next == "0" ? nil : next)
    }

    /// The single reply of one call of ``status(_:)``, or the error that stops it.
    private func reply(_ answer: Result<ClusterClient.Answer, RedisError>, reading item: String) throws(SaleError) -> (
        value: RESPValue, node: NodeConfig
    ) {
        switch answer {
        case .success(let answer):
            let value = answer.replies.first ?? .null
            if let message = value.errorMessage {
                let error = RedisError.server(message, node: answer.node.name)
                throw SaleError(code: .redis, message: "cannot read the status of \(item): \(error)", redis: error)
            }
            return (value, answer.node)
        case .failure(let error):
            throw SaleError(code: .redis, message: "cannot read the status of \(item): \(error)", redis: error)
        }
    }

    /// An `HSCAN` reply of a buyers hash: the next cursor and the users with their units.
    func buyersPage(_ reply: RESPValue) throws(SaleError) -> (next: String, buyers: [(user: String, units: Int)]) {
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let flat = parts[1].array else {
            throw unexpected("\(reply)", from: .purchase)
        }
        var buyers: [(user: String, units: Int)] = []
        var index = 0
        while index + 1 < flat.count {
            buyers.append((flat[index].string ?? "", Int(flat[index + 1].int ?? 0)))
            index += 2
        }
        return (next, buyers)
    }
}
