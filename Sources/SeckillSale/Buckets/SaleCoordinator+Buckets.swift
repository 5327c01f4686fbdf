import SeckillRESP
import SeckillRouting
import SeckillTransport

/// One bucket of a bucketed item, as ``SaleCoordinator/status(_:)`` reads it.
public struct BucketStatus: Sendable, Hashable {
    /// The bucket's index.
    public var index: Int
    /// Its hash tag.
    public var tag: String
    /// The node owning its slot.
    public var node: String
    /// Units in the bucket now (its share, restocks and transfers in, minus transfers out).
    public var total: Int
    /// Units sold from it, net of cancellations.
    public var sold: Int
    /// Users holding units of it (the users whose home bucket it is).
    public var buyers: Int
    /// Transfers taken from it and not yet marked done.
    public var pendingTransfers: Int

    /// Units left in the bucket.
    public var remaining: Int { total - sold }
}

extension SaleCoordinator {
    // MARK: Publishing

    /// Publishes `item` with `stock` units split over `buckets` buckets on different nodes
    /// (see ``BucketLayout``); `buckets: 1` is a plain item, exactly as
    /// ``publish(_:stock:limitPerUser:window:replace:)``.
    ///
    /// The steps are safe to run again after a crash: the new layout is first recorded in the
    /// root hash (`pending`), then each bucket is written, then one script switches the root to
    /// the buckets (refusing an item with sales unless `replace`), then the buckets of the
    /// previous layout are deleted. A publish that died half way leaves its buckets named in
    /// `pending`, and the next publish or unpublish deletes them.
    ///
    /// - Parameters:
    ///   - buckets: 1 to ``BucketLayout/maxBuckets``.
    /// - Returns: The new epoch.
    /// - Throws: ``SaleError`` with ``SaleError/Code/hasSales`` when the item has sales and
    ///   `replace` is false.
    public func publish(
        _ item: String, stock: Int, limitPerUser: Int = 0, window: SaleWindow = SaleWindow(), replace: Bool = false, buckets count: Int,
        payWithin: Duration? = nil
    ) async throws(SaleError) -> PublishResult {
        guard (1...BucketLayout.maxBuckets).contains(count) else {
            throw .invalidInput("buckets must be from 1 to \(BucketLayout.maxBuckets), got \(count)")
        }
        if count == 1 {
            return try await publish(item, stock: stock, limitPerUser: limitPerUser, window: window, replace: replace, payWithin: payWithin)
        }
        let payWithinMs = try Self.validatedPublish(item, stock: stock, limitPerUser: limitPerUser, window: window, payWithin: payWithin)
        defer { forgetShed(item) }
        if payWithinMs != nil { try await registerPayments(item) }
        for _ in 0..<3 {
            if let result = try await publishBucketsOnce(
                item, stock: stock, limit: limitPerUser, window: window, replace: replace, count: count, payWithinMs: payWithinMs)
            {
                try await publishedPayments(item, payWithinMs: payWithinMs, hadDeadline: true)
                return result
            }
        }
        throw SaleError(code: .redis, message: "publishing \(item): its root hash kept changing during the publish; try again")
    }

    /// One try of a bucketed publish; nil when the root changed in between (try again).
    private func publishBucketsOnce(
        _ item: String, stock: Int, limit: Int, window: SaleWindow, replace: Bool, count: Int, payWithinMs: Int64?
    ) async throws(SaleError) -> PublishResult? {
        let plain = ItemKeys(item: item)
        try await checkNode(owning: plain.meta)
        let root =
            try await command(
                RESPCommand("HMGET", plain.meta, "total", "sold", "epoch", "pending"), key: plain.meta, doing: "read \(item)"
            ).array ?? []
        guard root.count == 4 else { throw unexpected("\(root)", from: .bucketRoot) }
        let history = try await command(RESPCommand("XLEN", plain.orders), key: plain.meta, doing: "read \(item)").int ?? 0
        let sold = Int(root[1].int ?? 0)
        if root[0].int != nil && (sold != 0 || history != 0) && !replace {
            throw hasSales(
                item, sold: sold, entries: Int(history),
                hint: "replace: true (seckill publish --replace) to reset it and delete its buyers and orders")
        }
        let previous = try await loadLayout(item)
        if let previous, !replace {
            let (sold, entries) = try await bucketSales(previous)
            if sold != 0 || entries != 0 {
                throw hasSales(
                    item, sold: sold, entries: entries,
                    hint: "replace: true (seckill publish --replace) to reset it and delete its buyers and orders")
            }
        }
        if let pending = root[3].string, let stale = Self.pendingLayout(pending, item: item, limit: limit) {
            try await deleteBuckets(stale)
        }
        let epoch = Int(root[2].int ?? 0)
        let generation = epoch + 1
        let layout = BucketLayout(
            item: item, generation: generation,
            salts: BucketLayout.place(item: item, generation: generation, count: count, on: client.router.map),
            limit: limit, payWithinMs: payWithinMs)
        _ = try await command(RESPCommand("SADD", Self.bucketedItemsKey, item), key: Self.bucketedItemsKey, doing: "register \(item)")
        _ = try await command(
            RESPCommand("HSET", plain.meta, "pending", "\(generation).\(layout.encodedSalts)"), key: plain.meta, doing: "publish \(item)")
        let start = window.startsAtMs.map(String.init) ?? ""
        let end = window.endsAtMs.map(String.init) ?? ""
        let within = payWithinMs.map(String.init) ?? ""
        for index in 0..<count {
            let keys = layout.keys(index)
            try await checkNode(owning: keys.meta)
            let share = stock / count + (index < stock % count ? 1 : 0)
            let answer = try await run(
                .bucketPublish, keys: keys.allBucketKeys, arguments: [String(share), String(limit), start, end, within],
                retryUnknownOutcome: true
            ).answer
            guard answer == "OK" else { throw unexpected(answer, from: .bucketPublish) }
        }
        let answer = try await run(
            .bucketRoot, keys: plain.all,
            arguments: [
                String(epoch), replace ? "1" : "0", String(count), String(generation), layout.encodedSalts, String(limit), start, end,
                String(stock), within,
            ],
            retryUnknownOutcome: false
        ).answer
        let fields = answer.split(separator: "|", omittingEmptySubsequences: false)
        switch fields.first {
        case "OK" where fields.count == 2:
            if let previous { try await deleteBuckets(previous) }
            buckets.store(item, layout)
            return .published(epoch: generation)
        case "C":
            // Another publish switched the root first. Its buckets may be these very keys
            // (the same generation and slot map): delete them only when they are not.
            if try await loadLayout(item) != layout { try await deleteBuckets(layout) }
            return nil
        case "H" where fields.count == 3:
            try await deleteBuckets(layout)
            throw hasSales(
                item, sold: Int(fields[1]) ?? 0, entries: Int(fields[2]) ?? 0,
                hint: "replace: true (seckill publish --replace) to reset it and delete its buyers and orders")
        default:
            throw unexpected(answer, from: .bucketRoot)
        }
    }

    /// The layout a `pending` field names (`generation.s0,s1,...`).
    static func pendingLayout(_ text: String, item: String, limit: Int) -> BucketLayout? {
        guard let dot = text.firstIndex(of: "."), let generation = Int(text[..<dot]),
            let salts = BucketLayout.decodeSalts(String(text[text.index(after: dot)...]))
        else { return nil }
        return BucketLayout(item: item, generation: generation, salts: salts, limit: limit)
    }

    private func hasSales(_ item: String, sold: Int, entries: Int, hint: String) -> SaleError {
        SaleError(
            code: .hasSales,
            message:
                "item \(item) already has sales (\(sold) units sold, \(entries) order entries); pass \(hint)"
        )
    }

    /// Units sold and order entries over every bucket.
    private func bucketSales(_ layout: BucketLayout) async throws(SaleError) -> (sold: Int, entries: Int) {
        var calls: [ClusterClient.Call] = []
        for index in 0..<layout.count {
            let keys = layout.keys(index)
            let slot = HashSlot(key: keys.meta)
            calls.append(.init(slot: slot, commands: [RESPCommand("HGET", keys.meta, "sold")]))
            calls.append(.init(slot: slot, commands: [RESPCommand("XLEN", keys.orders)]))
        }
        let answers = await read(calls)
        var sold = 0
        var entries = 0
        for index in 0..<layout.count {
            sold += Int(try bucketReply(answers[index * 2], layout, index).int ?? 0)
            entries += Int(try bucketReply(answers[index * 2 + 1], layout, index).int ?? 0)
        }
        return (sold, entries)
    }

    /// Deletes every key of every bucket of `layout`.
    @discardableResult
    private func deleteBuckets(_ layout: BucketLayout) async throws(SaleError) -> Int {
        var removed = 0
        for index in 0..<layout.count {
            let keys = layout.keys(index)
            var delete = RESPCommand("DEL")
            for key in keys.allBucketKeys { delete.append(key) }
            removed += Int(try await command(delete, key: keys.meta, doing: "delete bucket \(index) of \(layout.item)").int ?? 0)
        }
        return removed
    }

    /// Removes the buckets of `item` (its current layout and any a crashed publish left), and
    /// the bucket fields of its root hash. Refuses buckets with sales unless `force`.
    ///
    /// - Returns: Keys removed (0 when the root named no readable buckets; its bucket fields
    ///   are removed all the same, so a plain publish after it cannot meet them again).
    func removeBuckets(_ item: String, force: Bool, hint: String) async throws(SaleError) -> Int {
        let root = ItemKeys(item: item).meta
        let pending = try await command(RESPCommand("HGET", root, "pending"), key: root, doing: "read \(item)").string
        let layout = try await loadLayout(item)
        let stale = pending.flatMap { Self.pendingLayout($0, item: item, limit: 0) }
        if let layout, !force {
            let (sold, entries) = try await bucketSales(layout)
            if sold != 0 || entries != 0 { throw hasSales(item, sold: sold, entries: entries, hint: hint) }
        }
        var removed = 0
        if let stale { removed += try await deleteBuckets(stale) }
        if let layout { removed += try await deleteBuckets(layout) }
        _ = try await command(
            RESPCommand("HDEL", root, "buckets", "pending", "generation", "salts", "stock"), key: root, doing: "update \(item)")
        _ = try await command(RESPCommand("SREM", Self.bucketedItemsKey, item), key: Self.bucketedItemsKey, doing: "unregister \(item)")
        buckets.store(item, nil)
        return removed
    }

    /// ``unpublish(_:force:)`` of a bucketed item: its buckets, then its root hash.
    func unpublishBuckets(_ item: String, force: Bool) async throws(SaleError) -> UnpublishResult {
        let removed = try await removeBuckets(
            item, force: force, hint: "force: true (seckill unpublish --force) to remove it with its buyers and orders")
        let plain = ItemKeys(item: item)
        var delete = RESPCommand("DEL")
        for key in plain.all { delete.append(key) }
        let root = Int(try await command(delete, key: plain.meta, doing: "remove \(item)").int ?? 0)
        return removed + root == 0 ? .unknownItem : .removed(keys: removed + root)
    }

    // MARK: Restock and cancel

    /// ``restock(_:units:requestID:)`` of a bucketed item (whose root answered the plain restock
    /// "unknown item"): the units are spread over the buckets as evenly as possible, each part
    /// applied once under the request id in its bucket.
    func restockBuckets(_ layout: BucketLayout, units: Int, request: String) async throws(SaleError) -> RestockResult {
        for index in 0..<layout.count {
            let part = units / layout.count + (index < units % layout.count ? 1 : 0)
            guard part > 0 else { continue }
            let keys = layout.keys(index)
            let answer = try await run(
                .bucketRestock, keys: [keys.meta, keys.restocks], arguments: [String(part), request, String(SaleInput.maxUnits)],
                retryUnknownOutcome: true, requestID: request
            ).answer
            if answer == "U" { return .unknownItem }
            if answer == "X" {
                throw .invalidInput("restocking \(units) units would take \(layout.item) above \(SaleInput.maxUnits) units in a bucket")
            }
            guard answer.hasPrefix("OK|") else { throw unexpected(answer, from: .bucketRestock) }
        }
        guard let status = try await bucketedStatus(layout.item) else { return .unknownItem }
        return .restocked(total: status.total, remaining: status.remaining, epoch: status.epoch)
    }

    /// Where a cancel goes.
    enum CancelTarget {
        case keys(ItemKeys, entry: String)
        case unknownItem
        case unknownOrder
    }

    /// The keys and stream entry an order id names: a plain item's, or for `j:ENTRY` bucket
    /// `j` of the item's layout.
    func cancelTarget(_ item: String, order: String) async throws(SaleError) -> CancelTarget {
        guard let (bucket, entry) = BucketLayout.parseOrder(order) else {
            try SaleInput.validateOrder(order)
            return .keys(ItemKeys(item: item), entry: order)
        }
        try SaleInput.validateOrder(entry)
        // Read afresh (cancels are rare): a cached layout may predate a republish.
        guard let layout = try await loadLayout(item) else {
            let root = ItemKeys(item: item).meta
            let exists = try await command(RESPCommand("EXISTS", root), key: root, doing: "read \(item)").int == 1
            return exists ? .unknownOrder : .unknownItem
        }
        guard bucket < layout.count else { return .unknownOrder }
        return .keys(layout.keys(bucket), entry: entry)
    }

    // MARK: Status and buyers

    /// The status of a bucketed item (nil when it is not bucketed): total = units published
    /// plus restocks (units in a pending transfer included), sold over every bucket, buyers
    /// over every bucket (each user buys from one bucket only), and each bucket with its node.
    public func bucketedStatus(_ item: String) async throws(SaleError) -> ItemStatus? {
        try SaleInput.validateItem(item)
        guard let layout = try await loadLayout(item) else { return nil }
        let root = ItemKeys(item: item).meta
        let rootFields =
            try await command(RESPCommand("HMGET", root, "limit", "start", "end", "epoch"), key: root, doing: "read \(item)").array ?? []
        var calls: [ClusterClient.Call] = []
        for index in 0..<layout.count {
            let keys = layout.keys(index)
            let slot = HashSlot(key: keys.meta)
            calls.append(
                .init(slot: slot, commands: [RESPCommand("HMGET", keys.meta, "total", "sold", "epoch", "initial", "restocked")]))
            calls.append(.init(slot: slot, commands: [RESPCommand("HLEN", keys.buyers)]))
            calls.append(.init(slot: slot, commands: [RESPCommand("SCARD", keys.pending)]))
        }
        let answers = await read(calls)
        var status = ItemStatus(
            item: item, total: 0, sold: 0, limit: Int(rootFields.first?.int ?? 0),
            window: SaleWindow(
                startsAtMs: rootFields.count > 1 ? rootFields[1].int : nil, endsAtMs: rootFields.count > 2 ? rootFields[2].int : nil),
            epoch: Int(rootFields.count > 3 ? rootFields[3].int ?? 0 : 0), buyers: 0, node: client.router.node(forKey: root).name)
        for index in 0..<layout.count {
            let fields = try bucketReply(answers[index * 3], layout, index).array ?? []
            let buyers = Int(try bucketReply(answers[index * 3 + 1], layout, index).int ?? 0)
            let pending = Int(try bucketReply(answers[index * 3 + 2], layout, index).int ?? 0)
            guard fields.count == 5, let total = fields[0].int else { return nil }
            let node: String
            if case .success(let answer) = answers[index * 3] { node = answer.node } else { node = "?" }
            let bucket = BucketStatus(
                index: index, tag: layout.tag(index), node: node, total: Int(total), sold: Int(fields[1].int ?? 0), buyers: buyers,
                pendingTransfers: pending)
            status.total += Int(fields[3].int ?? 0) + Int(fields[4].int ?? 0)
            status.sold += bucket.sold
            status.buyers += buyers
            status.epoch += Int(fields[2].int ?? 1) - 1
            status.buckets.append(bucket)
        }
        return status
    }

    /// One page of a bucketed item's buyers: the buckets one after another (a user holds units
    /// in one bucket only, so no user appears twice). Cursors are `j:CURSOR`.
    func bucketBuyers(_ layout: BucketLayout, cursor: String, count: Int) async throws(SaleError) -> BuyersPage {
        var bucket = 0
        var inner = "0"
        if let colon = cursor.firstIndex(of: ":"), let index = Int(cursor[..<colon]) {
            bucket = index
            inner = String(cursor[cursor.index(after: colon)...])
        }
        guard bucket < layout.count else { return BuyersPage(buyers: [], next: nil) }
        let keys = layout.keys(bucket)
        let reply = try await command(
            RESPCommand("HSCAN", keys.buyers, inner, "COUNT", String(max(1, count))), key: keys.meta,
            doing: "read the buyers of \(layout.item)")
        let (next, buyers) = try buyersPage(reply)
        let following = next != "0" ? "\(bucket):\(next)" : bucket + 1 < layout.count ? "\(bucket + 1):0" : nil
        return BuyersPage(buyers: buyers, next: following)
    }
}
