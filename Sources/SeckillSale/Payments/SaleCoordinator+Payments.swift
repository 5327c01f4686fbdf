internal import Foundation
import SeckillRESP
import SeckillRouting
import SeckillTransport

extension SaleCoordinator {
    /// The registry of items published with a payment deadline: a set of item ids, read by
    /// sweeps to find every deadlines set without scanning the keyspace.
    public static let paymentItemsKey = "seckill:pay-items"

    /// Most orders one release script releases; a set with more due runs it again in the same sweep.
    static let releaseBatch = 200

    /// The longest payment deadline accepted.
    public static let maxPayWithin = Duration.seconds(30 * 24 * 3600)

    // MARK: Paying

    /// Pays an unpaid order of an item published with a payment deadline, atomically: the order
    /// is paid only if it is still unpaid and its deadline has not passed. One script on the
    /// item's node (a bucketed item's: on the order's bucket) checks, takes the order out of the
    /// deadlines set, records the payment and appends `type paid order O user U qty Q` to the
    /// orders stream. A payment after the deadline is refused, and the order released in that
    /// same step if no sweep has released it yet, so the refusal and the release agree. A
    /// release never follows a payment: both take the order out of the same set first.
    ///
    /// Paying again, or a retry after a lost reply, answers ``PayResult/alreadyPaid(payment:user:quantity:)``.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - order: The order id a purchase returned (`j:ENTRY` for a bucketed item).
    /// - Returns: The outcome.
    /// - Throws: ``SaleError`` for an invalid id, or when Redis stayed unavailable for the call
    ///   deadline.
    public func pay(_ item: String, order: String) async throws(SaleError) -> PayResult {
        try SaleInput.validateItem(item)
        var answer: String?
        // A bucketed item's payments go straight to the bucket of a cached layout (as many
        // payments as purchases: no read of the root each time); a bucket that is gone (the
        // item was published again) answers U, and the layout is then read afresh.
        if let (bucket, entry) = BucketLayout.parseOrder(order), let layout = buckets.layout(item), bucket < layout.count {
            try SaleInput.validateOrder(entry)
            answer = try await runPay(layout.keys(bucket), entry: entry)
            if answer == "U" { answer = nil }
        }
        if answer == nil {
            switch try await cancelTarget(item, order: order) {
            case .keys(let keys, let entry): answer = try await runPay(keys, entry: entry)
            case .unknownItem: return .unknownItem
            case .unknownOrder: return .unknownOrder
            }
        }
        guard let answer else { return .unknownOrder }
        switch answer {
        case "U":
            // A plain order id of a bucketed item names no bucket.
            return try await loadLayout(item) != nil ? .unknownOrder : .unknownItem
        case "W": return .noDeadline
        case "O": return .unknownOrder
        default: break
        }
        let kind = answer.prefix(2)
        if kind == "C|" { return .cancelled(cancellation: String(answer.dropFirst(2))) }
        if kind == "L|" {
            // L|release|quantity|due|user: the user id comes last since it may hold '|'.
            let fields = answer.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
            guard fields.count == 5, let quantity = Int(fields[2]), let due = Int64(fields[3]) else { throw unexpected(answer, from: .pay) }
            forgetShed(item)
            return .late(release: String(fields[1]), user: String(fields[4]), quantity: quantity, dueMs: due)
        }
        let fields = answer.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let quantity = Int(fields[2]) else { throw unexpected(answer, from: .pay) }
        let (entryID, user) = (String(fields[1]), String(fields[3]))
        switch fields[0] {
        case "P": return .paid(payment: entryID, user: user, quantity: quantity)
        case "A": return .alreadyPaid(payment: entryID, user: user, quantity: quantity)
        case "R": return .released(release: entryID, user: user, quantity: quantity)
        default: throw unexpected(answer, from: .pay)
        }
    }

    /// The pay script on one item's or bucket's keys.
    private func runPay(_ keys: ItemKeys, entry: String) async throws(SaleError) -> String {
        try await run(
            .pay, keys: [keys.meta, keys.buyers, keys.orders, keys.cancels, keys.due, keys.payments], arguments: [entry],
            retryUnknownOutcome: true, durable: true
        ).answer
    }

    // MARK: Pending orders

    /// The unpaid orders of `item` with their deadlines, earliest first (a bucketed item's
    /// buckets merged, order ids `j:ENTRY`).
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - limit: The most orders returned.
    /// - Returns: The orders, or nil when no item with this id is published.
    public func pendingOrders(_ item: String, limit: Int = 1000) async throws(SaleError) -> [PendingOrder]? {
        try SaleInput.validateItem(item)
        guard limit > 0 else { throw .invalidInput("limit must be positive, got \(limit)") }
        var sets: [(keys: ItemKeys, bucket: Int?)] = []
        if let layout = try await loadLayout(item) {
            sets = (0..<layout.count).map { (layout.keys($0), $0) }
        } else {
            let keys = ItemKeys(item: item)
            guard try await command(RESPCommand("EXISTS", keys.meta), key: keys.meta, doing: "read \(item)").int == 1 else { return nil }
            sets = [(keys, nil)]
        }
        let calls = sets.map {
            ClusterClient.Call(
                slot: HashSlot(key: $0.keys.meta), commands: [RESPCommand("ZRANGE", $0.keys.due, "0", String(limit - 1), "WITHSCORES")])
        }
        let answers = await read(calls)
        var pending: [PendingOrder] = []
        for (index, set) in sets.enumerated() {
            let reply: RESPValue
            switch answers[index] {
            case .success(let answer):
                if let message = answer.value.errorMessage {
                    throw SaleError(code: .redis, message: "cannot read the unpaid orders of \(item): \(message)")
                }
                reply = answer.value
            case .failure(let error):
                throw SaleError(code: .redis, message: "cannot read the unpaid orders of \(item): \(error)", redis: error)
            }
            for (member, score) in Self.scoredMembers(reply) {
                pending.append(
                    PendingOrder(order: set.bucket.map { BucketLayout.order(bucket: $0, entry: member) } ?? member, dueMs: score))
            }
        }
        pending.sort { ($0.dueMs, $0.order) < ($1.dueMs, $1.order) }
        return Array(pending.prefix(limit))
    }

    /// The members and integer scores of a `ZRANGE ... WITHSCORES` reply: a flat array in
    /// RESP2, pairs in RESP3.
    static func scoredMembers(_ reply: RESPValue) -> [(String, Int64)] {
        let values = reply.array ?? []
        func score(_ value: RESPValue) -> Int64 {
            if case .double(let number) = value { return Int64(number) }
            return value.int ?? value.string.flatMap { Double($0) }.map { Int64($0) } ?? 0
        }
        if let first = values.first, first.array != nil {
            return values.compactMap { pair in
                guard let parts = pair.array, parts.count == 2, let member = parts[0].string else { return nil }
                return (member, score(parts[1]))
            }
        }
        var members: [(String, Int64)] = []
        var index = 0
        while index + 1 < values.count {
            if let member = values[index].string { members.append((member, score(values[index + 1]))) }
            index += 2
        }
        return members
    }

    // MARK: Registry

    /// The deadline in whole milliseconds, checked: nil for none.
    static func validatedPayWithin(_ payWithin: Duration?) throws(SaleError) -> Int64? {
        guard let payWithin else { return nil }
        let ms = payWithin.milliseconds
        guard ms >= 1, payWithin <= maxPayWithin else {
            throw .invalidInput("the payment deadline must be from 1 ms to 30 days, got \(payWithin)")
        }
        return ms
    }

    /// Adds `item` to the registry of items with payment deadlines.
    func registerPayments(_ item: String) async throws(SaleError) {
        _ = try await command(
            RESPCommand("SADD", Self.paymentItemsKey, item), key: Self.paymentItemsKey, doing: "register the payment deadline of \(item)")
    }

    /// After a publish: an item with a deadline is swept from now on, one without leaves the
    /// registry (when the item it replaced may have had one: a plain publish costs no more
    /// round trips otherwise), and this coordinator's purchases of it name its deadlines set or not.
    func publishedPayments(_ item: String, payWithinMs: Int64?, hadDeadline: Bool) async throws(SaleError) {
        _ = try? purchaseCall(for: item, due: payWithinMs != nil)
        if payWithinMs != nil {
            sweeps.add(item)
        } else if hadDeadline {
            try await unregisterPayments(item)
        } else {
            sweeps.remove(item)
        }
    }

    /// Removes `item` from the registry (unpublished, or published again without a deadline).
    func unregisterPayments(_ item: String) async throws(SaleError) {
        sweeps.remove(item)
        _ = try await command(
            RESPCommand("SREM", Self.paymentItemsKey, item), key: Self.paymentItemsKey, doing: "unregister the payment deadline of \(item)")
    }

    /// Every item in the registry of items with payment deadlines.
    public func paymentItems() async throws(SaleError) -> [String] {
        let reply = try await command(
            RESPCommand("SMEMBERS", Self.paymentItemsKey), key: Self.paymentItemsKey, doing: "list the items with payment deadlines")
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    // MARK: Sweeping

    /// Releases every unpaid order past its deadline, on every item with payment deadlines:
    /// units back to stock and to the buyer's allowance, a `release` entry in the orders stream,
    /// the item's epoch bumped (so sold-out shedding ends, here at once). Each release is one
    /// script on the item's node (a bucketed item: per bucket) that takes the orders due by the
    /// server's clock out of the deadlines set, so an order is released exactly once however many
    /// sweepers run, and never after it was paid or cancelled.
    ///
    /// The cost follows the orders coming due: the coordinator keeps each deadlines set's next
    /// deadline from the last release script's answer, and runs the script only on the sets
    /// whose next deadline has passed (pipelined per node through the client's route, redirects
    /// followed). A set with nothing pending answers the earliest deadline a new purchase could
    /// have (now plus the item's deadline), so an idle item costs one script per deadline period.
    /// The registry (``paymentItemsKey``) is read at the first sweep, with `rereadRegistry`, and
    /// every ``SaleOptions/registryRefresh``; items published through this coordinator are known
    /// at once.
    ///
    /// - Parameter rereadRegistry: Read the registry now, to find items published elsewhere.
    /// - Returns: What was released; sets that could not be swept are listed in
    ///   ``PaymentSweep/failures`` and tried again at the next sweep.
    /// - Throws: ``SaleError`` when the registry cannot be read (and no item is known yet, or
    ///   `rereadRegistry` asked for it); otherwise a failed read is listed in the failures.
    @discardableResult
    public func sweepPayments(rereadRegistry: Bool = false) async throws(SaleError) -> PaymentSweep {
        let clock = ContinuousClock()
        var sweep = PaymentSweep()
        if rereadRegistry || sweeps.needsRegistry(now: clock.now, refresh: options.registryRefresh) {
            do throws(SaleError) {
                let items = try await paymentItems()
                sweeps.registryRead(Set(items), at: clock.now)
            } catch {
                // The items known already are still swept (their nodes may be up).
                guard sweeps.targetCount > 0, !rereadRegistry else { throw error }
                sweep.failures.append("registry \(Self.paymentItemsKey): \(error.message)")
            }
        }
        for item in sweeps.unresolvedItems() {
            do throws(SaleError) {
                try SaleInput.validateItem(item)
                if let layout = try await loadLayout(item) {
                    sweeps.resolve(
                        item, targets: (0..<layout.count).map { PaymentSweepState.Target(item: item, keys: layout.keys($0), bucket: $0) })
                } else {
                    sweeps.resolve(item, targets: [PaymentSweepState.Target(item: item, keys: ItemKeys(item: item), bucket: nil)])
                }
            } catch {
                sweep.failures.append("\(item): \(error.message)")
            }
        }
        var finished = Set<String>()
        // Each round runs the sets still due; a set goes again only after releasing a full batch.
        for _ in 0..<1000 {
            let due = sweeps.dueTargets(nowMs: Self.unixMilliseconds(), excluding: finished)
            if due.isEmpty { break }
            for (target, answer) in await release(due) {
                sweep.scripts += 1
                let text: String
                switch answer {
                case .success(let answer): text = answer
                case .failure(let error):
                    finished.insert(target.keys.meta)
                    sweep.failures.append("\(target.name): \(error.message)")
                    continue
                }
                if text == "U" {
                    // Unpublished, or republished with other buckets: resolved again from the registry.
                    finished.insert(target.keys.meta)
                    if target.bucket != nil { sweeps.add(target.item) } else { sweeps.remove(target.item) }
                    continue
                }
                let parts = text.split(separator: "|", omittingEmptySubsequences: false)
                guard parts.count == 2, let released = Int(parts[0]) else {
                    finished.insert(target.keys.meta)
                    sweep.failures.append("\(target.name): \(unexpected(text, from: .release).message)")
                    continue
                }
                if released > 0 { sweep.released[target.item, default: 0] += released }
                if released < Self.releaseBatch { finished.insert(target.keys.meta) }
                if let next = Int64(parts[1]) {
                    sweeps.record(target, next: next)
                } else {
                    // Published again without a deadline.
                    sweeps.remove(target.item)
                }
            }
        }
        for item in sweep.released.keys { forgetShed(item) }
        if sweep.total > 0 {
            client.logger.log(.info, "released unpaid orders past their deadline", ["orders": String(sweep.total)])
        }
        for failure in sweep.failures { client.logger.log(.warning, "payment sweep failed", ["failure": failure]) }
        sweep.targets = sweeps.targetCount
        return sweep
    }

    /// Runs the release script on each of `targets`: pipelined per node through
    /// ``ClusterClient/execute(_:deadline:)``; a set whose pipelined call failed (the script
    /// not loaded there, a lost reply, a node down) runs again through the single-call route,
    /// which reloads scripts and retries within the call deadline. Releasing again is safe:
    /// the script releases only what is still due.
    private func release(_ targets: [PaymentSweepState.Target]) async -> [(PaymentSweepState.Target, Result<String, SaleError>)] {
        var results: [(PaymentSweepState.Target, Result<String, SaleError>)] = []
        var rest = targets[...]
        if knownSHA(.release) == nil, let first = rest.popFirst() {
            // Loads the script (its SHA is then known for the pipeline).
            results.append((first, await releaseOnce(first)))
        }
        guard let sha = knownSHA(.release), !rest.isEmpty else { return results }
        let calls = rest.map { target in
            ClusterClient.Call(
                slot: HashSlot(key: target.keys.meta),
                commands: [Self.evalsha(sha, keys: Self.releaseKeys(target.keys), arguments: [String(Self.releaseBatch)])])
        }
        let answers = await client.execute(calls, deadline: ContinuousClock.now + options.callDeadline)
        for (target, answer) in zip(rest, answers) {
            if case .success(let reply) = answer, let text = reply.replies.first?.string, reply.replies.first?.errorMessage == nil {
                results.append((target, .success(text)))
            } else {
                results.append((target, await releaseOnce(target)))
            }
        }
        return results
    }

    /// The release script on one set through the single-call route.
    private func releaseOnce(_ target: PaymentSweepState.Target) async -> Result<String, SaleError> {
        do {
            return .success(
                try await run(
                    .release, keys: Self.releaseKeys(target.keys), arguments: [String(Self.releaseBatch)], retryUnknownOutcome: true
                ).answer)
        } catch {
            return .failure(error)
        }
    }

    static func releaseKeys(_ keys: ItemKeys) -> [String] { [keys.meta, keys.buyers, keys.orders, keys.due, keys.payments] }

    static func unixMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    // MARK: Running

    /// Sweeps the payment deadlines (``sweepPayments(rereadRegistry:)``) every
    /// ``SaleOptions/sweepInterval`` (1 s by default) until the calling task is cancelled: the
    /// long-running work of a coordinator. A failed sweep is logged and the next one tries again.
    /// Several coordinators may run it at once: each order is released once whoever sweeps it.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await sweepPayments()
            } catch {
                client.logger.log(.warning, "payment sweep failed", ["error": error.message])
            }
            do {
                try await Task.sleep(for: options.sweepInterval)
            } catch {
                return
            }
        }
    }
}
