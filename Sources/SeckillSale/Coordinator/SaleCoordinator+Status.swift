import SeckillRESP
import SeckillRouting
import SeckillTransport

extension SaleCoordinator {
    /// Reads many items' counters in one round trip per node (pipelined `HMGET` + `HLEN`).
    ///
    /// - Parameter items: Item ids.
    /// - Returns: One status per item, in order; nil for an item that was never published.
    public func status(_ items: [String]) async throws(SaleError) -> [ItemStatus?] {
        for item in items { try SaleInput.validateItem(item) }
        let groups = client.router.group(items) { ItemKeys(item: $0).meta }
        var results = [ItemStatus?](repeating: nil, count: items.count)
        let replies = try await perNode(groups) { node, indexes in
            indexes.flatMap { index -> [RESPCommand] in
                let keys = ItemKeys(item: items[index])
                return [RESPCommand("HMGET", keys.meta, "total", "sold", "limit", "start", "end", "epoch"),
                        RESPCommand("HLEN", keys.buyers)]
            }
        }
        for (node, indexes, values) in replies {
            for (position, index) in indexes.enumerated() {
                let fields = values[position * 2].array ?? []
                guard fields.count == 6, let total = fields[0].int else { continue }
                results[index] = ItemStatus(
                    item: items[index], total: Int(total), sold: Int(fields[1].int ?? 0), limit: Int(fields[2].int ?? 0),
                    window: SaleWindow(startsAtMs: fields[3].int, endsAtMs: fields[4].int),
                    epoch: Int(fields[5].int ?? 0), buyers: Int(values[position * 2 + 1].int ?? 0), node: node.name)
            }
        }
        return results
    }

    /// Every item published on any node, found with `SCAN` (for operators; a sale's own code
    /// should know its items).
    ///
    /// - Returns: Item ids, sorted.
    public func allItems() async throws(SaleError) -> [String] {
        var items: [String] = []
        for node in client.nodes {
            guard let pool = client.pool(named: node.name) else { continue }
            var cursor = "0"
            repeat {
                let reply: RESPValue
                do {
                    reply = try await pool.send(RESPCommand("SCAN", cursor, "MATCH", "seckill:{*}", "COUNT", "1000", "TYPE", "hash"))
                } catch {
                    throw SaleError(code: .redis, message: "cannot list items on \(node.name): \(error)", redis: error as? RedisError)
                }
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                    throw unexpected("\(reply)", from: .purchase)
                }
                for key in keys {
                    if let text = key.string, let item = ItemKeys.item(fromMetaKey: text) { items.append(item) }
                }
                cursor = next
            } while cursor != "0"
        }
        return items.sorted()
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
        let keys = ItemKeys(item: item)
        let reply: RESPValue
        do {
            reply = try await client.send(RESPCommand("HSCAN", keys.buyers, cursor, "COUNT", String(max(1, count))), key: keys.meta)
        } catch {
            throw SaleError(code: .redis, message: "cannot read the buyers of \(item): \(error)", redis: error as? RedisError)
        }
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let flat = parts[1].array else {
            throw unexpected("\(reply)", from: .purchase)
        }
        var buyers: [(user: String, units: Int)] = []
        var index = 0
        while index + 1 < flat.count {
            buyers.append((flat[index].string ?? "", Int(flat[index + 1].int ?? 0)))
            index += 2
        }
        return BuyersPage(buyers: buyers, next: next == "0" ? nil : next)
    }

    /// Sends each node its commands in one pipeline (several consecutive ones past half the
    /// pool's in-flight limit), all nodes at once.
    func perNode(
        _ groups: [(node: NodeConfig, indexes: [Int])],
        _ commands: @Sendable (NodeConfig, [Int]) -> [RESPCommand]
    ) async throws(SaleError) -> [(NodeConfig, [Int], [RESPValue])] {
        let client = self.client
        let outcome: Result<[(NodeConfig, [Int], [RESPValue])], SaleError> = await withTaskGroup(
            of: Result<(NodeConfig, [Int], [RESPValue]), SaleError>.self
        ) { group in
            for (node, indexes) in groups {
                let batch = commands(node, indexes)
                group.addTask {
                    guard let pool = client.pool(named: node.name) else {
                        return .failure(SaleError(code: .redis, message: "no pool for node \(node.name)"))
                    }
                    do {
                        // The pool refuses a pipeline longer than its in-flight limit outright,
                        // so a large batch goes in consecutive slices of at most half of it.
                        let slice = max(1, pool.poolOptions.maxInFlight / 2)
                        var values: [RESPValue] = []
                        values.reserveCapacity(batch.count)
                        for start in stride(from: 0, to: batch.count, by: slice) {
                            values += try await pool.pipeline(Array(batch[start..<min(start + slice, batch.count)]))
                        }
                        return .success((node, indexes, values))
                    } catch {
                        return .failure(SaleError(code: .redis, message: "\(node.name): \(error)", redis: error as? RedisError))
                    }
                }
            }
            var collected: [(NodeConfig, [Int], [RESPValue])] = []
            for await result in group {
                switch result {
                case .success(let value): collected.append(value)
                case .failure(let error): return .failure(error)
                }
            }
            return .success(collected)
        }
        return try outcome.get()
    }
}
