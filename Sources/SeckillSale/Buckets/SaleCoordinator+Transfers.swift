import SeckillRESP
import SeckillRouting
import SeckillTransport

/// The units of one transfer between buckets.
struct TransferRecord: Sendable, Hashable {
    /// Units taken from the donor.
    var units: Int
    /// The bucket they go to.
    var target: Int
    /// Whether the donor marked it done.
    var done: Bool

    /// Parses `out|n|target` or `done|n|target`.
    init?(_ text: String) {
        let fields = text.split(separator: "|")
        guard fields.count == 3, fields[0] == "out" || fields[0] == "done", let units = Int(fields[1]), let target = Int(fields[2]) else {
            return nil
        }
        self.units = units
        self.target = target
        self.done = fields[0] == "done"
    }
}

extension SaleCoordinator {
    // MARK: Buying from buckets

    /// A purchase of a bucketed item: the purchase script on the buyer's home bucket; when
    /// that bucket has too few units, units are moved there from the others (one refill per
    /// bucket at a time, shared by the purchases waiting on it) and the purchase is tried
    /// again. The answer is "sold out" only when no bucket has units and no transfer is pending.
    func purchaseFromBuckets(
        _ layout: BucketLayout, user: String, quantity: Int, request: String
    ) async throws(SaleError) -> (answer: (result: PurchaseResult, source: AnswerSource), replicas: Int?) {
        var layout = layout
        var reloaded = false
        var refills = 0
        while true {
            let home = layout.home(of: user)
            let keys = layout.keys(home)
            let reply = try await run(
                .purchase, keys: keys.purchaseKeys(due: layout.payWithinMs != nil),
                arguments: purchaseArguments(user: user, quantity: quantity, request: request), retryUnknownOutcome: true,
                requestID: request, durable: true)
            if reply.answer == "D" {
                // The bucket has a payment deadline the cached layout did not know: read it again.
                guard !reloaded, let fresh = try await loadLayout(layout.item), fresh.payWithinMs != nil else {
                    throw unexpected(reply.answer, from: .purchase)
                }
                layout = fresh
                reloaded = true
                continue
            }
            let answer = try parsePurchase(reply.answer)
            switch answer.result {
            case .purchased(let order, let remaining):
                return (
                    (.purchased(order: BucketLayout.order(bucket: home, entry: order), remaining: remaining), answer.source), reply.replicas
                )
            case .unknownItem:
                // The item was published again (new buckets, or plain) or removed since the layout was read.
                guard !reloaded else { return (answer, reply.replicas) }
                guard let fresh = try await loadLayout(layout.item) else {
                    let call = try purchaseCall(for: layout.item)
                    return try await purchasePlain(call, item: layout.item, user: user, quantity: quantity, request: request)
                }
                layout = fresh
                reloaded = true
            case .soldOut:
                refills += 1
                if refills > 64 {
                    throw SaleError(
                        code: .redis,
                        message:
                            "purchase of \(layout.item): bucket \(home) was refilled 64 times and other buyers took the units each time; try again"
                    )
                }
                let outcome = await buckets.refill("\(layout.item)#\(layout.generation)#\(home)", need: quantity) { demand in
                    do throws(SaleError) {
                        return try await self.refillBucket(layout, bucket: home, demand: demand)
                    } catch {
                        return .failed(error)
                    }
                }
                switch outcome {
                case .moved: continue
                // Left only in this bucket, but enough for this purchase (the refill was sized
                // for every waiting purchase): try again.
                case .empty(let left) where left >= quantity: continue
                case .empty(let left): return ((.soldOut(remaining: left), answer.source), reply.replicas)
                case .failed(let error): throw error
                }
            default:
                return (answer, reply.replicas)
            }
        }
    }

    /// Moves units to `bucket` from the buckets that have most, enough for `demand` and at
    /// least a K-th of the donor's units (so the emptied bucket is not refilled again at once).
    private func refillBucket(_ layout: BucketLayout, bucket: Int, demand: @Sendable () -> Int) async throws(SaleError)
        -> BucketState.Refill
    {
        var recovered = false
        for _ in 0..<4 {
            let states = try await readBuckets(layout)
            let remaining = states.map { max(0, $0.total - $0.sold) }
            let want = demand()
            if remaining[bucket] >= want { return .moved }
            let donors = remaining.indices.filter { $0 != bucket && remaining[$0] > 0 }.sorted { remaining[$0] > remaining[$1] }
            if donors.isEmpty {
                // Units in a pending transfer belong to some bucket: finish it before saying
                // sold out (a crashed coordinator's, or one in flight, which finishing twice
                // cannot harm).
                if !recovered && states.contains(where: { $0.pending > 0 }) {
                    recovered = true
                    _ = try await recoverTransfers(of: layout)
                    continue
                }
                return .empty(remaining: remaining.reduce(0, +))
            }
            var need = want - remaining[bucket]
            var moved = 0
            for donor in donors where need > 0 {
                // A K-th of the donor: refills of several buckets that read the donor at once
                // then leave it its own share instead of emptying it.
                let units = min(remaining[donor], max(need, (remaining[donor] + layout.count - 1) / layout.count))
                let taken = try await transfer(layout, from: donor, to: bucket, units: units)
                moved += taken
                need -= taken
            }
            if moved > 0 { return .moved }
        }
        return .moved
    }

    /// One bucket's counters, as a refill reads them.
    struct BucketCounters: Sendable {
        var total: Int
        var sold: Int
        var pending: Int
    }

    /// Every bucket's total, sold and pending transfers, in one round trip per node.
    func readBuckets(_ layout: BucketLayout) async throws(SaleError) -> [BucketCounters] {
        var calls: [ClusterClient.Call] = []
        for index in 0..<layout.count {
            let keys = layout.keys(index)
            let slot = HashSlot(key: keys.meta)
            calls.append(.init(slot: slot, commands: [RESPCommand("HMGET", keys.meta, "total", "sold")]))
            calls.append(.init(slot: slot, commands: [RESPCommand("SCARD", keys.pending)]))
        }
        let answers = await read(calls)
        var counters: [BucketCounters] = []
        for index in 0..<layout.count {
            let meta = try bucketReply(answers[index * 2], layout, index).array ?? []
            let pending = try bucketReply(answers[index * 2 + 1], layout, index)
            counters.append(
                BucketCounters(
                    total: Int(meta.first?.int ?? 0), sold: Int(meta.dropFirst().first?.int ?? 0), pending: Int(pending.int ?? 0)))
        }
        return counters
    }

    /// Reads of buckets in one round trip per node (``ClusterClient/execute(_:deadline:)``).
    /// A read whose reply was lost is sent again through the single-call route: reads change
    /// nothing, so repeating them is safe, and a refill must not fail for one lost reply.
    func read(_ calls: [ClusterClient.Call]) async -> [Result<(value: RESPValue, node: String), RedisError>] {
        let deadline = ContinuousClock.now + options.callDeadline
        var results: [Result<(value: RESPValue, node: String), RedisError>] = []
        for (index, answer) in await client.execute(calls, deadline: deadline).enumerated() {
            switch answer {
            case .success(let answer):
                results.append(.success((answer.replies.first ?? .null, answer.node.name)))
            case .failure(let lost) where lost.outcomeUnknown:
                do {
                    let replies = try await client.execute(calls[index].commands, slot: calls[index].slot, deadline: deadline)
                    results.append(.success((replies.first ?? .null, client.router.node(for: calls[index].slot).name)))
                } catch {
                    results.append(.failure(error as? RedisError ?? lost))
                }
            case .failure(let error):
                results.append(.failure(error))
            }
        }
        return results
    }

    func bucketReply(_ answer: Result<(value: RESPValue, node: String), RedisError>, _ layout: BucketLayout, _ index: Int) throws(SaleError)
        -> RESPValue
    {
        switch answer {
        case .success(let answer):
            if let message = answer.value.errorMessage {
                let error = RedisError.server(message, node: answer.node)
                throw SaleError(code: .redis, message: "cannot read bucket \(index) of \(layout.item): \(error)", redis: error)
            }
            return answer.value
        case .failure(let error):
            throw SaleError(code: .redis, message: "cannot read bucket \(index) of \(layout.item): \(error)", redis: error)
        }
    }

    // MARK: Transfers

    /// Moves up to `units` units from bucket `donor` to bucket `target`: takes them from the
    /// donor (step 1), gives them to the target (step 2) and marks the transfer done (step 3),
    /// each one script under one transfer id, so a repeat or a recovery never moves a unit twice.
    ///
    /// - Returns: The units moved (fewer than asked when the donor had fewer left).
    func transfer(_ layout: BucketLayout, from donor: Int, to target: Int, units: Int) async throws(SaleError) -> Int {
        let id = Self.newRequestID()
        let taken = try await takeUnits(layout, from: donor, to: target, units: units, transfer: id)
        guard taken > 0 else { return 0 }
        try await completeTransfer(layout, from: donor, to: target, units: taken, transfer: id)
        client.logger.log(
            .debug, "moved units between buckets",
            ["item": layout.item, "from": String(donor), "to": String(target), "units": String(taken), "transfer": id])
        return taken
    }

    /// Step 1 of a transfer alone: takes up to `units` from bucket `donor` for `target` and
    /// records them under `transfer` in the donor's transfers hash and pending set. A repeat of
    /// the same id answers the recorded units. (Tests call it alone to crash mid-transfer.)
    ///
    /// - Returns: The units taken, 0 when the donor had none left or is gone.
    package func takeUnits(_ layout: BucketLayout, from donor: Int, to target: Int, units: Int, transfer id: String) async throws(SaleError)
        -> Int
    {
        let keys = layout.keys(donor)
        let answer = try await run(
            .transferTake, keys: [keys.meta, keys.transfers, keys.pending], arguments: [id, String(units), String(target)],
            retryUnknownOutcome: true, requestID: id, durable: true
        ).answer
        if answer == "Z" || answer == "U" { return 0 }
        guard let record = TransferRecord(answer) else { throw unexpected(answer, from: .transferTake) }
        return record.units
    }

    /// Steps 2 and 3 of a transfer whose units were taken from `donor`.
    func completeTransfer(_ layout: BucketLayout, from donor: Int, to target: Int, units: Int, transfer id: String) async throws(SaleError)
    {
        let to = layout.keys(target)
        let given = try await run(
            .transferGive, keys: [to.meta, to.transfers], arguments: [id, String(units), String(donor)], retryUnknownOutcome: true,
            requestID: id, durable: true
        ).answer
        // The target is gone (the item was removed): the record stays pending, with its units.
        if given == "U" { return }
        guard given == "OK" || given == "A" else { throw unexpected(given, from: .transferGive) }
        let from = layout.keys(donor)
        let done = try await run(.transferDone, keys: [from.transfers, from.pending], arguments: [id], retryUnknownOutcome: true).answer
        guard done == "OK" else { throw unexpected(done, from: .transferDone) }
    }

    // MARK: Recovery

    /// Completes the transfers a crashed coordinator left between taking units from one bucket
    /// and giving them to another. Reads each bucket's pending set (one round trip per node per
    /// item), so the cost follows the pending transfers, not the keys. Completing a transfer
    /// twice changes nothing: the target applies a transfer id once.
    ///
    /// - Parameter items: The items to recover; nil for every bucketed item published through
    ///   a coordinator (the set `seckill:bucketed`).
    /// - Returns: How many pending transfers were completed.
    /// - Throws: ``SaleError`` when a bucket cannot be read or written.
    @discardableResult
    public func recoverTransfers(_ items: [String]? = nil) async throws(SaleError) -> Int {
        var names = items ?? []
        if items == nil { names = try await bucketedItems() }
        var completed = 0
        for item in names {
            try SaleInput.validateItem(item)
            guard let layout = try await loadLayout(item) else { continue }
            completed += try await recoverTransfers(of: layout)
        }
        return completed
    }

    /// ``recoverTransfers(_:)`` for one layout.
    func recoverTransfers(of layout: BucketLayout) async throws(SaleError) -> Int {
        var calls: [ClusterClient.Call] = []
        for index in 0..<layout.count {
            let keys = layout.keys(index)
            calls.append(.init(slot: HashSlot(key: keys.meta), commands: [RESPCommand("SMEMBERS", keys.pending)]))
        }
        let answers = await read(calls)
        var completed = 0
        for donor in 0..<layout.count {
            let ids = try bucketReply(answers[donor], layout, donor).array?.compactMap(\.string) ?? []
            let keys = layout.keys(donor)
            for id in ids {
                let record = try await command(RESPCommand("HGET", keys.transfers, id), key: keys.meta, doing: "recover transfer \(id)")
                if let text = record.string, let parsed = TransferRecord(text), !parsed.done, (0..<layout.count).contains(parsed.target) {
                    try await completeTransfer(layout, from: donor, to: parsed.target, units: parsed.units, transfer: id)
                    completed += 1
                } else {
                    // Done already, or no record: only the pending entry is left.
                    _ = try await run(.transferDone, keys: [keys.transfers, keys.pending], arguments: [id], retryUnknownOutcome: true)
                }
            }
        }
        if completed > 0 {
            client.logger.log(.info, "completed pending bucket transfers", ["item": layout.item, "transfers": String(completed)])
        }
        return completed
    }

    /// The key of the set of items published with buckets, for recovery.
    static let bucketedItemsKey = "seckill:bucketed"

    /// Every item in `seckill:bucketed`.
    func bucketedItems() async throws(SaleError) -> [String] {
        let reply = try await command(
            RESPCommand("SMEMBERS", Self.bucketedItemsKey), key: Self.bucketedItemsKey, doing: "list bucketed items")
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    // MARK: Layouts

    /// The layout of `item` as its root hash records it now (and cached), or nil when the item
    /// is not bucketed.
    func loadLayout(_ item: String) async throws(SaleError) -> BucketLayout? {
        let root = ItemKeys(item: item).meta
        let reply = try await command(
            RESPCommand("HMGET", root, "buckets", "generation", "salts", "limit", "payWithinMs"), key: root, doing: "read \(item)")
        let fields = reply.array ?? []
        guard fields.count == 5, let count = fields[0].int, let generation = fields[1].int,
            let salts = fields[2].string.flatMap(BucketLayout.decodeSalts),
            salts.count == Int(count)
        else {
            buckets.store(item, nil)
            return nil
        }
        let layout = BucketLayout(
            item: item, generation: Int(generation), salts: salts, limit: Int(fields[3].int ?? 0), payWithinMs: fields[4].int)
        buckets.store(item, layout)
        return layout
    }

    /// The bucket layout of `item` as its root hash records it now.
    ///
    /// - Returns: The layout, or nil when the item is not bucketed (or not published).
    /// - Throws: ``SaleError`` when the root cannot be read.
    public func bucketLayout(of item: String) async throws(SaleError) -> BucketLayout? {
        try SaleInput.validateItem(item)
        return try await loadLayout(item)
    }

    /// The cached layout of `item` when it is known to be bucketed (no Redis call).
    ///
    /// - Returns: The layout, or nil when this coordinator has not seen the item bucketed.
    public func cachedLayout(_ item: String) -> BucketLayout? { buckets.layout(item) }

    /// One command on the node owning `key`, through the client's route. Every command sent
    /// this way may run twice (reads, `DEL`, `SADD`, setting a field to a fixed value), so one
    /// whose reply was lost is sent again, up to three times within the call deadline.
    func command(_ command: RESPCommand, key: String, doing what: String) async throws(SaleError) -> RESPValue {
        let deadline = ContinuousClock.now + options.callDeadline
        var attempt = 0
        while true {
            attempt += 1
            do {
                let reply = try await client.execute(command, slot: HashSlot(key: key), deadline: deadline)
                if let message = reply.errorMessage { throw RedisError.server(message, node: client.router.node(forKey: key).name) }
                return reply
            } catch let error as RedisError where error.outcomeUnknown && attempt < 3 && ContinuousClock.now < deadline {
                continue
            } catch {
                throw SaleError(code: .redis, message: "cannot \(what): \(error)", redis: error as? RedisError)
            }
        }
    }
}
