import SeckillRESP
import SeckillRouting
import SeckillTransport

extension InvariantChecker {
    /// Checks a bucketed item: every bucket as a plain item (`0 <= sold <= total`, buyers and
    /// orders agree, no user above the limit), and besides:
    /// - each bucket's total is its share plus its restocks plus transfers in minus transfers out;
    /// - every buyer holds units only in their home bucket (so the limit, checked per bucket, holds
    ///   for the item);
    /// - the shares add up to the units published, and the buckets' totals plus the units of
    ///   transfers taken and not yet given add up to the units published plus restocks.
    ///
    /// - Returns: False when `item` is not bucketed (its root hash names no buckets).
    func checkBuckets(_ item: String, into report: inout InvariantReport) async throws(SaleError) -> Bool {
        let root = ItemKeys(item: item).meta
        let rootSlot = HashSlot(key: root)
        let fields =
            try await read(RESPCommand("HMGET", root, "buckets", "generation", "salts", "limit", "stock"), slot: rootSlot, of: item).array
            ?? []
        guard fields.count == 5, let count = fields[0].int, let generation = fields[1].int,
            let salts = fields[2].string.flatMap(BucketLayout.decodeSalts), salts.count == Int(count)
        else { return false }
        let layout = BucketLayout(item: item, generation: Int(generation), salts: salts, limit: Int(fields[3].int ?? 0))
        let stock = Int(fields[4].int ?? 0)

        var shares = 0
        var supplied = 0
        var held = 0
        var inFlight = 0
        for index in 0..<layout.count {
            let keys = layout.keys(index)
            let slot = HashSlot(key: keys.meta)
            let name = "\(item) bucket \(index)"
            let first = FirstReads(
                meta: await answer(RESPCommand("HMGET", keys.meta, "total", "sold", "limit"), slot: slot),
                buyers: await answer(Self.buyersPage(keys, cursor: "0"), slot: slot),
                orders: await answer(Self.ordersPage(keys, from: "-"), slot: slot))
            var partial = InvariantReport()
            let buyers = try await check(name, keys: keys, first: first, into: &partial)
            report.addCounts(of: partial)
            for user in buyers.keys where layout.home(of: user) != index {
                report.violations.append("\(name): buyer \(user) holds units here but buys from bucket \(layout.home(of: user))")
            }

            let counters =
                try await read(
                    RESPCommand("HMGET", keys.meta, "total", "initial", "restocked", "in", "out"), slot: slot, of: item
                ).array ?? []
            let number = { (position: Int) in Int(counters.count > position ? counters[position].int ?? 0 : 0) }
            let (total, initial, restocked, given, taken) = (number(0), number(1), number(2), number(3), number(4))
            if total != initial + restocked + given - taken {
                report.violations.append(
                    "\(name): total \(total) is not share \(initial) + restocks \(restocked) + transfers in \(given) - out \(taken)")
            }
            shares += initial
            supplied += initial + restocked
            held += total

            // Units taken here whose target has not applied them yet.
            let pending = try await read(RESPCommand("SMEMBERS", keys.pending), slot: slot, of: item).array?.compactMap(\.string) ?? []
            for id in pending {
                guard let text = try await read(RESPCommand("HGET", keys.transfers, id), slot: slot, of: item).string,
                    let record = TransferRecord(text), (0..<layout.count).contains(record.target)
                else {
                    report.violations.append("\(name): pending transfer \(id) has no record")
                    continue
                }
                let target = layout.keys(record.target)
                let applied =
                    try await read(RESPCommand("HEXISTS", target.transfers, id), slot: HashSlot(key: target.meta), of: item).int == 1
                if !applied { inFlight += record.units }
            }
        }
        if shares != stock { report.violations.append("\(item): the buckets' shares add up to \(shares), not the \(stock) published") }
        if held + inFlight != supplied {
            report.violations.append(
                "\(item): the buckets hold \(held) units and pending transfers \(inFlight), but \(supplied) were published and restocked")
        }
        return true
    }

    /// One command's answer through the client's route, as a ``FirstReads`` member.
    private func answer(_ command: RESPCommand, slot: HashSlot) async -> Result<ClusterClient.Answer, RedisError> {
        await client.execute([ClusterClient.Call(slot: slot, commands: [command])], deadline: ContinuousClock.now + .seconds(10))[0]
    }
}
