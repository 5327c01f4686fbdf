internal import Foundation
import SeckillRESP
public import SeckillRouting
import SeckillTransport
import Synchronization

/// Runs a flash sale of many items over the nodes of a ``ClusterClient``.
///
/// Every state change is one Lua script on the node owning the item (see ``SaleScript``): a
/// purchase checks the window, stock and per-user limit, decrements, records the buyer and
/// appends the order in one atomic step, and stores its answer under the request id in the
/// item's request records so a retry returns that purchase instead of buying twice.
///
/// Request ids: at most one purchase per request id for as long as the item exists (until
/// ``unpublish(_:force:)`` or a ``publish(_:stock:limitPerUser:window:replace:)`` with
/// `replace`). Only purchases that bought are recorded; a refusal (sold out, limit reached,
/// not started, ended, unknown item) records nothing, so a retry of a refused attempt is
/// evaluated afresh and may answer differently (bought after a restock or cancellation,
/// another refusal): it can never buy twice, because the first attempt bought nothing.
///
/// Routing: every operation reaches Redis through the client's one route: scripts through
/// ``ClusterClient/execute(_:slot:deadline:)``, reads of many items (``status(_:)``, the
/// ``InvariantChecker``) through ``ClusterClient/execute(_:deadline:)``, which pipelines
/// them per node and follows redirects the same way, so a moving slot is followed by every
/// operation alike.
///
/// Retries: a failure where Redis certainly did not run the script (not sent, `NOSCRIPT`,
/// `TRYAGAIN`, `LOADING`, ...) is retried within ``SaleOptions/callDeadline``. A failure with
/// an unknown outcome (timeout, connection lost after the write) is retried only for calls
/// that carry a request id (purchase, restock) or are idempotent by nature (cancel); a publish
/// is never re-sent after an unknown outcome.
public final class SaleCoordinator: Sendable {
    /// The nodes and router.
    public let client: ClusterClient
    /// Retry and record settings.
    public let options: SaleOptions
    let shaStore = Mutex<[String?]>(Array(repeating: nil, count: SaleScript.allCases.count))
    /// Bumped whenever a SHA is learned: a purchase's cached call made since is still current,
    /// and checking that costs one atomic read instead of a lock and a SHA comparison.
    let shaVersion = Atomic<Int>(0)
    /// The prepared purchase calls of recently bought items.
    let purchaseCalls = PurchaseCalls()
    let shedder: SoldOutShedder?
    /// Purchase counts by result, errors, shed answers and WAIT outcomes.
    public let metrics = SaleMetrics()
    /// Nodes whose `maxmemory-policy` was read and accepted (see ``checkNodes()``).
    let checkedNodes = Mutex<Set<String>>([])
    /// Layouts of bucketed items and their refills in flight.
    let buckets = BucketState()
    /// The items with payment deadlines and when each comes due next (see ``sweepPayments(rereadRegistry:)``).
    let sweeps = PaymentSweepState()

    /// Creates a coordinator over `client`. Scripts are loaded on first use, or by ``prepare()``.
    ///
    /// - Parameter options: Retry, record and durability settings (for those of a
    ///   cluster.json, `SaleOptions(config:)`).
    public init(client: ClusterClient, options: SaleOptions) {
        self.client = client
        self.options = options
        // An unanswered probe holds its item shed for at most one command timeout.
        self.shedder = self.options.soldOutRecheck.map { SoldOutShedder(recheck: $0, probeTimeout: client.config.timeouts.command) }
    }

    /// Creates a coordinator over `client` with the options of its config's `sale` and
    /// `durability` sections.
    ///
    /// - Throws: ``SeckillRouting/ConfigError`` when the config is not valid, both layers checked.
    public convenience init(client: ClusterClient) throws(ConfigError) {
        self.init(client: client, options: try SaleOptions(config: client.config))
    }

    /// Items whose purchases are currently answered "sold out" in process.
    public var shedItems: Int { shedder?.count ?? 0 }

    /// Purchases answered "sold out" in process so far, without a Redis round trip.
    public var shedAnswers: Int { metrics.shedAnswers }

    /// Checks every node's `maxmemory-policy` (see ``checkNodes()``) and loads every script on
    /// every node now (`SCRIPT LOAD`), so the first purchases do not pay for it and an
    /// unreachable or unsafe node is reported before the sale starts; then completes the
    /// transfers between buckets that a crashed coordinator left half done
    /// (``recoverTransfers(_:)``).
    ///
    /// - Throws: ``SaleError`` naming the first node that is unsafe or could not load them.
    public func prepare() async throws(SaleError) {
        try await checkNodes()
        // Every node of the map, each through its pool (opened if the client has none yet):
        // none is skipped.
        for node in client.nodes {
            let pool = client.pool(for: node)
            for script in SaleScript.allCases {
                _ = try await load(script, on: pool)
            }
        }
        // Transfers between buckets that a crashed coordinator left half done.
        try await recoverTransfers()
    }

    // MARK: Operations

    /// Publishes `item` with `stock` units.
    ///
    /// - Parameters:
    ///   - item: The item id (1-128 bytes, no braces or control characters).
    ///   - stock: Units on sale, 0 or more.
    ///   - limitPerUser: Most units one user may hold; 0 for no limit.
    ///   - window: When purchases are accepted; open by default.
    ///   - replace: Reset an item that already has sales (its buyers and orders are deleted).
    ///   - payWithin: A payment deadline: each purchase is an unpaid order that must be paid
    ///     (``pay(_:order:)``) within this time, or is released by a sweep
    ///     (``sweepPayments(rereadRegistry:)``). 1 ms to 30 days; nil (the default) for none.
    /// - Returns: The new epoch.
    /// - Throws: ``SaleError`` with ``SaleError/Code/hasSales`` when the item has sales and
    ///   `replace` is false.
    public func publish(
        _ item: String, stock: Int, limitPerUser: Int = 0, window: SaleWindow = SaleWindow(), replace: Bool = false,
        payWithin: Duration? = nil
    ) async throws(SaleError) -> PublishResult {
        let payWithinMs = try Self.validatedPublish(item, stock: stock, limitPerUser: limitPerUser, window: window, payWithin: payWithin)
        let keys = ItemKeys(item: item)
        try await checkNode(owning: keys.meta)
        defer { forgetShed(item) }
        // Registered before the item has a deadline: a sweep finding no deadline drops it,
        // while a deadline item missing from the registry would never be swept.
        if payWithinMs != nil { try await registerPayments(item) }
        let answer = try await run(
            .publish, keys: keys.all,
            arguments: [
                String(stock), String(limitPerUser), window.startsAtMs.map(String.init) ?? "",
                window.endsAtMs.map(String.init) ?? "", replace ? "1" : "0", payWithinMs.map(String.init) ?? "",
            ],
            retryUnknownOutcome: false
        ).answer
        let fields = answer.split(separator: "|", omittingEmptySubsequences: false)
        switch fields.first {
        case "OK" where fields.count == 2 || fields.count == 3:
            try await publishedPayments(item, payWithinMs: payWithinMs, hadDeadline: fields.count == 3)
            return .published(epoch: Int(fields[1]) ?? 0)
        case "B" where fields.count == 1:
            // The item is bucketed: remove its buckets (refused with sales unless replace), then publish it plain.
            _ = try await removeBuckets(
                item, force: replace, hint: "replace: true (seckill publish --replace) to reset it and delete its buyers and orders")
            return try await publish(
                item, stock: stock, limitPerUser: limitPerUser, window: window, replace: replace, payWithin: payWithin)
        case "H" where fields.count == 3:
            throw SaleError(
                code: .hasSales,
                message:
                    "item \(item) already has sales (\(fields[1]) units sold, \(fields[2]) order entries); pass replace: true (seckill publish --replace) to reset it and delete its buyers and orders"
            )
        default:
            throw unexpected(answer, from: .publish)
        }
    }

    /// Adds `units` to `item`'s stock.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - units: Units to add, 1 or more.
    ///   - requestID: Makes the call safe to repeat: the same id never adds twice.
    /// - Returns: The new total, remaining units and epoch, or ``RestockResult/unknownItem``.
    public func restock(_ item: String, units: Int, requestID: String? = nil) async throws(SaleError) -> RestockResult {
        try SaleInput.validateItem(item)
        guard (1...SaleInput.maxUnits).contains(units) else {
            throw .invalidInput("units must be from 1 to \(SaleInput.maxUnits), got \(units)")
        }
        let request = requestID ?? Self.newRequestID()
        try SaleInput.validateRequestID(request)
        let keys = ItemKeys(item: item)
        defer { forgetShed(item) }
        let answer = try await run(
            .restock, keys: [keys.meta, keys.restocks],
            arguments: [String(units), request, String(SaleInput.maxUnits)], retryUnknownOutcome: true, requestID: request
        ).answer
        let fields = answer.split(separator: "|")
        if answer == "U" {
            guard let layout = try await loadLayout(item) else { return .unknownItem }
            return try await restockBuckets(layout, units: units, request: request)
        }
        if answer == "X" {
            throw .invalidInput("restocking \(units) units would take \(item) above \(SaleInput.maxUnits) units in total")
        }
        guard fields.count == 4, fields[0] == "OK", let total = Int(fields[1]), let remaining = Int(fields[2]), let epoch = Int(fields[3])
        else {
            throw unexpected(answer, from: .restock)
        }
        return .restocked(total: total, remaining: remaining, epoch: epoch)
    }

    /// Tries to buy `quantity` units of `item` for `user`.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - user: The buyer (1-128 bytes, no control characters).
    ///   - quantity: Units, 1 or more.
    ///   - requestID: Identifies this attempt: calling again with the same id returns the first
    ///     answer and never buys twice, also after a lost reply. A new id is made when nil.
    /// - Returns: The outcome.
    /// - Throws: ``SaleError`` for refused input, or when Redis stayed unavailable for the
    ///   whole call deadline (``SaleError/Code/outcomeUnknown`` when an attempt may have
    ///   been applied: repeat the call with ``SaleError/requestID``, the id it was sent with);
    ///   ``SaleError/Code/outOfMemory`` when the node is full (nothing applied).
    public func purchase(_ item: String, user: String, quantity: Int = 1, requestID: String? = nil) async throws(SaleError)
        -> PurchaseResult
    {
        try await purchaseReceipt(item, user: user, quantity: quantity, requestID: requestID).result
    }

    /// ``purchase(_:user:quantity:requestID:)`` with what the durability setting observed:
    /// with ``SaleOptions/durabilityReplicas`` above 0 the coordinator sends `WAIT` on the same
    /// connection right after the script, and the receipt says how many replicas had the
    /// purchase when the call returned.
    @inline(__always)
    public func purchaseReceipt(_ item: String, user: String, quantity: Int = 1, requestID: String? = nil) async throws(SaleError)
        -> PurchaseReceipt
    {
        do {
            let receipt = try await attemptPurchase(item, user: user, quantity: quantity, requestID: requestID)
            metrics.record(receipt)
            return receipt
        } catch {
            metrics.record(error)
            throw error
        }
    }

    // Inlined: one suspended frame per waiting caller instead of two. What runs before and
    // after the answer is out of line, so that its locals are not kept in that frame while
    // the purchase waits.
    @inline(__always)
    private func attemptPurchase(_ item: String, user: String, quantity: Int, requestID: String?) async throws(SaleError) -> PurchaseReceipt
    {
        let (call, request, ticket) = try startPurchase(item, user: user, quantity: quantity, requestID: requestID)
        guard let call else {
            return PurchaseReceipt(
                result: .soldOut(remaining: 0), requestID: request, replicasAcknowledged: nil, replicasRequired: 0, shed: true)
        }
        let answer: (result: PurchaseResult, source: AnswerSource)
        let replicas: Int?
        do {
            (answer, replicas) = try await purchaseAnswer(call, item: item, user: user, quantity: quantity, request: request)
        } catch {
            // Also for an answer that cannot be parsed: a probe must never be left in flight.
            if let ticket { shedder?.abandon(item, ticket: ticket) }
            throw error
        }
        return finishPurchase(item, ticket: ticket, answer: answer, replicas: replicas, request: request)
    }

    /// A purchase's checks before it is sent: the item's prepared call (nil when the item is
    /// shed as sold out), the request id, and the shedder's ticket when it is counted.
    @inline(never)
    private func startPurchase(_ item: String, user: String, quantity: Int, requestID: String?) throws(SaleError) -> (
        call: PurchaseCall?, request: String, ticket: SoldOutShedder.Ticket?
    ) {
        let call = try purchaseCall(for: item)
        let request = try validatedPurchase(user: user, quantity: quantity, requestID: requestID)
        // Only purchases without a caller's request id are shed: an explicit id always gets
        // the answer Redis recorded for it.
        guard requestID == nil, let shedder else { return (call, request, nil) }
        guard case .send(let ticket) = shedder.admit(item) else { return (nil, request, nil) }
        return (call, request, ticket)
    }

    /// A purchase's receipt once Redis answered: the shedder learns the answer (logging when
    /// shedding starts or ends).
    @inline(never)
    private func finishPurchase(
        _ item: String, ticket: SoldOutShedder.Ticket?, answer: (result: PurchaseResult, source: AnswerSource), replicas: Int?,
        request: String
    ) -> PurchaseReceipt {
        if let ticket, let shedder {
            switch shedder.record(item, soldOut: answer.result == .soldOut(remaining: 0), ticket: ticket) {
            case .started: client.logger.log(.info, "sold out: shedding purchases in process", ["item": item])
            case .ended: client.logger.log(.info, "shedding ended: Redis answered with stock", ["item": item])
            case .none: break
            }
        }
        // A replay whose record could not be rewritten: no replica is known to have the purchase.
        let acknowledged = answer.source == .replayedUnconfirmed && replicas != nil ? 0 : replicas
        return PurchaseReceipt(
            result: answer.result, requestID: request, replicasAcknowledged: acknowledged, replicasRequired: options.durabilityReplicas,
            replayed: answer.source != .fresh)
    }

    /// What Redis answers a purchase of `item`: plain items through their prepared call,
    /// bucketed ones through their buckets.
    @inline(__always)
    private func purchaseAnswer(
        _ call: PurchaseCall, item: String, user: String, quantity: Int, request: String
    ) async throws(SaleError) -> (answer: (result: PurchaseResult, source: AnswerSource), replicas: Int?) {
        if buckets.hasLayouts, let bucketed = try await purchaseIfBucketed(item, user: user, quantity: quantity, request: request) {
            return bucketed
        }
        let plain = try await purchasePlain(call, item: item, user: user, quantity: quantity, request: request)
        // A bucketed item's root holds no stock: its purchases go to its buckets.
        guard plain.answer.result == .unknownItem else { return plain }
        return try await purchaseNewlyBucketed(item, user: user, quantity: quantity, request: request) ?? plain
    }

    /// A purchase through the item's buckets when its layout is cached; nil when it is not.
    /// Out of line: a plain sale's frames need not hold the bucketed path's.
    @inline(never)
    private func purchaseIfBucketed(
        _ item: String, user: String, quantity: Int, request: String
    ) async throws(SaleError) -> (answer: (result: PurchaseResult, source: AnswerSource), replicas: Int?)? {
        guard let layout = buckets.layout(item) else { return nil }
        return try await purchaseFromBuckets(layout, user: user, quantity: quantity, request: request)
    }

    /// A purchase of an item the coordinator did not know to be bucketed: through its buckets
    /// when it is; nil when it is not (the item is unknown). Out of line, so that the frames of
    /// the common path do not hold this one's.
    @inline(never)
    private func purchaseNewlyBucketed(
        _ item: String, user: String, quantity: Int, request: String
    ) async throws(SaleError) -> (answer: (result: PurchaseResult, source: AnswerSource), replicas: Int?)? {
        guard let layout = try await loadLayout(item) else { return nil }
        return try await purchaseFromBuckets(layout, user: user, quantity: quantity, request: request)
    }

    /// Cancels an order: its units go back to stock and to the user's allowance, and a
    /// cancellation entry is appended to the orders stream. Cancelling twice changes nothing.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - order: The order id a purchase returned.
    /// - Returns: The outcome.
    public func cancel(_ item: String, order: String) async throws(SaleError) -> CancelResult {
        try SaleInput.validateItem(item)
        // A bucketed item's order ids name their bucket (`j:ENTRY`).
        let keys: ItemKeys
        let entry: String
        switch try await cancelTarget(item, order: order) {
        case .keys(let found, let foundEntry):
            keys = found
            entry = foundEntry
        case .unknownItem: return .unknownItem
        case .unknownOrder: return .unknownOrder
        }
        defer { forgetShed(item) }
        // A call id lets a retry after a lost reply get "cancelled" rather than "already cancelled".
        let answer = try await run(
            .cancel, keys: [keys.meta, keys.buyers, keys.orders, keys.cancels, keys.due, keys.payments],
            arguments: [entry, Self.newRequestID()], retryUnknownOutcome: true, durable: true
        ).answer
        if answer == "U" { return .unknownItem }
        if answer == "O" { return .unknownOrder }
        // C|cancellation|quantity|user or A|...: the user id comes last since it may hold '|'.
        let fields = answer.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let quantity = Int(fields[2]) else { throw unexpected(answer, from: .cancel) }
        switch fields[0] {
        case "C": return .cancelled(cancellation: String(fields[1]), user: String(fields[3]), quantity: quantity)
        case "A": return .alreadyCancelled(cancellation: String(fields[1]), user: String(fields[3]), quantity: quantity)
        case "R": return .released(release: String(fields[1]), user: String(fields[3]), quantity: quantity)
        default: throw unexpected(answer, from: .cancel)
        }
    }

    // MARK: Helpers

    /// Ends the shedding of `item` after its stock changed through this coordinator.
    func forgetShed(_ item: String) {
        if shedder?.forget(item) == true { client.logger.log(.info, "shedding ended: stock changed", ["item": item]) }
    }

    /// A request id unique to this process and attempt: 10 random characters drawn once per
    /// process (60 bits), then a counter, both in the URL-safe base-64 alphabet. Up to 15
    /// characters for the first billion ids, so Swift keeps it inline, without an allocation.
    /// (Foundation's UUID reads /dev/urandom on every call on Linux: three system calls per
    /// purchase.)
    static func newRequestID() -> String {
        var sequence = UInt64(requestSequence.add(1, ordering: .relaxed).newValue)
        let length = sequence < 1 << 30 ? 15 : 21
        return String(unsafeUninitializedCapacity: length) { buffer in
            for index in 0..<10 { buffer[index] = requestPrefix[index] }
            var count = 10
            repeat {
                buffer[count] = requestAlphabet[Int(sequence & 63)]
                sequence >>= 6
                count += 1
            } while sequence > 0
            return count
        }
    }

    private static let requestAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let requestPrefix: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        var random = generator.next() as UInt64
        return (0..<10).map { _ in
            defer { random >>= 6 }
            return requestAlphabet[Int(random & 63)]
        }
    }()

    private static let requestSequence = Atomic<Int>(0)

    /// Checks what a publish is given (plain or bucketed) before any Redis call; returns the
    /// payment deadline in milliseconds, nil for none.
    static func validatedPublish(
        _ item: String, stock: Int, limitPerUser: Int, window: SaleWindow, payWithin: Duration?
    ) throws(SaleError) -> Int64? {
        try SaleInput.validateItem(item)
        let payWithinMs = try validatedPayWithin(payWithin)
        guard (0...SaleInput.maxUnits).contains(stock) else {
            throw .invalidInput("stock must be from 0 to \(SaleInput.maxUnits), got \(stock)")
        }
        guard (0...SaleInput.maxUnits).contains(limitPerUser) else {
            throw .invalidInput("limit per user must be from 0 (no limit) to \(SaleInput.maxUnits), got \(limitPerUser)")
        }
        if let start = window.startsAtMs, let end = window.endsAtMs, start >= end {
            throw .invalidInput("the sale window must end after it starts (start \(start) ms, end \(end) ms)")
        }
        return payWithinMs
    }

    /// Checks a purchase's user, quantity and request id (the item is checked where its call
    /// is prepared, ``PurchaseCalls/call(for:sha:)``); returns the request id to send.
    func validatedPurchase(user: String, quantity: Int, requestID: String?) throws(SaleError) -> String {
        try SaleInput.validateUser(user)
        guard (1...SaleInput.maxQuantity).contains(quantity) else {
            throw .invalidInput("quantity must be from 1 to \(SaleInput.maxQuantity), got \(quantity)")
        }
        guard let requestID else { return Self.newRequestID() }
        try SaleInput.validateRequestID(requestID)
        return requestID
    }

    /// The ARGV of the purchase script for one attempt.
    func purchaseArguments(user: String, quantity: Int, request: String) -> [String] {
        [user, String(quantity), request, options.durabilityReplicas > 0 ? "1" : "0"]
    }

    /// One purchase of a plain item through its prepared call; when the script answers `D` (the
    /// item has a payment deadline the call did not name), again with the deadlines set, which
    /// the item's later purchases name from the start.
    @inline(__always)
    func purchasePlain(
        _ call: PurchaseCall, item: String, user: String, quantity: Int, request: String
    ) async throws(SaleError) -> (answer: (result: PurchaseResult, source: AnswerSource), replicas: Int?) {
        let arguments = purchaseArguments(user: user, quantity: quantity, request: request)
        var (answer, replicas) = try await runPurchase(call, arguments: arguments, request: request)
        if answer.count == 1 && answer[0] == UInt8(ascii: "D") && !call.due {
            (answer, replicas) = try await purchaseNamingDeadlines(item, arguments: arguments, request: request)
        }
        return (try parsePurchaseAnswer(answer), replicas)
    }

    /// The purchase script's answer, parsed; out of line (see ``attemptPurchase``).
    ///
    /// - Throws: ``SaleError`` `unexpectedReply` for an answer this version does not know.
    @inline(never)
    func parsePurchaseAnswer(_ answer: [UInt8]) throws(SaleError) -> (result: PurchaseResult, source: AnswerSource) {
        guard let parsed = answer.withUnsafeBufferPointer(Self.parseAnswer) else {
            throw unexpected(String(decoding: answer, as: UTF8.self), from: .purchase)
        }
        return parsed
    }

    /// The purchase again with the item's deadlines set named, after the script answered `D`
    /// (the item has a payment deadline the cached call did not name); later purchases of the
    /// item name it from the start. Out of line: a rare path the common frames need not hold.
    @inline(never)
    func purchaseNamingDeadlines(_ item: String, arguments: [String], request: String) async throws(SaleError) -> (
        answer: [UInt8], replicas: Int?
    ) {
        let dueCall = try purchaseCall(for: item, due: true)
        let reply = try await run(
            .purchase, keys: dueCall.keys, arguments: arguments, retryUnknownOutcome: true, requestID: request, durable: true,
            slot: dueCall.slot, prefix: dueCall.prefix)
        return (Array(reply.answer.utf8), reply.replicas)
    }

    func unexpected(_ answer: String, from script: SaleScript) -> SaleError {
        SaleError(
            code: .unexpectedReply,
            message: "the \(script.rawValue) script answered \"\(answer.prefix(80))\", which this version does not understand")
    }
}
