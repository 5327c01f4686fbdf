internal import Foundation
import SeckillRouting
import SeckillTransport
import Synchronization

/// The shape of a simulated sale.
public struct SaleRunConfig: Sendable, Hashable {
    /// Items on sale.
    public var items: Int = 1_000
    /// Units per item.
    public var stock: Int = 100
    /// Units per user per item; 0 for no limit.
    public var limit: Int = 1
    /// Distinct shoppers; each request picks one at random.
    public var users: Int = 20_000
    /// Purchase attempts in all.
    public var requests: Int = 200_000
    /// Attempts in flight at once (concurrent tasks).
    public var concurrency: Int = 256
    /// Item ids are `PREFIX-0`, `PREFIX-1`, ...
    public var prefix: String = "sale"
    /// Zipf exponent of item popularity: 0 uniform, 1 a few hot items and a long tail.
    public var skew: Double = 1.0
    /// When set (0 < X < 1), item 0 draws this share of all attempts and the others the rest by
    /// ``skew`` (see ``Popularity/init(items:skew:hotShare:)``).
    public var hotShare: Double?
    /// Seeds the shoppers' choices, so a run can be repeated.
    public var seed: UInt64 = 1
    /// Reset items of the same ids that already have sales.
    public var replace: Bool = false
    /// Attempts sent before the measured ones, not counted (benchmarks).
    public var warmup: Int = 0
    /// Read every item back from Redis afterwards and check the invariants.
    public var checkInvariants: Bool = true
    /// Buckets of the hottest item (rank 1 of the popularity, `PREFIX-0`); 1 publishes it plain.
    public var buckets: Int = 1
    /// The payment deadline every item is published with; nil (the default) for none.
    public var payWithin: Duration?
    /// With ``payWithin``: the share of purchases the shoppers pay right after buying (0 to 1,
    /// default 1); the others are never paid, and their units are released at the deadline.
    public var payShare: Double = 1

    /// Creates a config with the defaults used by scripts/demo.sh.
    public init() {}

    /// The id of item `index`.
    public func item(_ index: Int) -> String { "\(prefix)-\(index)" }
}

/// Live counters while a sale runs.
public struct SaleProgress: Sendable {
    /// Attempts answered so far.
    public var done: Int
    /// Units bought so far.
    public var purchased: Int
    /// Items seen sold out.
    public var itemsSoldOut: Int
    /// Attempts that failed with an error.
    public var errors: Int
    /// Seconds since the first attempt.
    public var seconds: Double
}

/// What a sale run did, and what Redis holds afterwards.
public struct SaleRunReport: Sendable {
    /// The run's shape.
    public var config: SaleRunConfig
    /// Attempts made.
    public var requests = 0
    /// Attempts per result kind (`purchased`, `soldOut`, `limitReached`, ...).
    public var results: [String: Int] = [:]
    /// Attempts that failed with an error.
    public var errors = 0
    /// Orders paid right after buying (items with a payment deadline).
    public var payments = 0
    /// Payments refused (the deadline had passed) or failed.
    public var failedPayments = 0
    /// A few distinct error messages.
    public var errorSamples: [String] = []
    /// Seconds the attempts took (publishing and checking excluded).
    public var seconds = 0.0
    /// Latency percentiles in milliseconds: p50, p99, p99.9 (each at most 1.6% above the true
    /// value: they are read from buckets, see `LatencyRecorder`), and the exact max.
    public var latencyMs: (p50: Double, p99: Double, p999: Double, max: Double) = (0, 0, 0, 0)
    /// Attempts sent to each node, in config order.
    public var perNode: [(node: String, requests: Int)] = []
    /// Items that answered "sold out" at least once.
    public var itemsSoldOut = 0
    /// Attempts answered "sold out" in process (sold-out shedding), without a round trip.
    public var shedAnswers = 0
    /// CPU seconds (user + system) this process spent while the attempts ran: the client's
    /// cost, with the Redis nodes' CPU in their own processes.
    public var clientCPUSeconds = 0.0
    /// Client CPU per attempt in microseconds (``clientCPUSeconds`` / ``requests``).
    public var clientCPUMicrosPerAttempt: Double { requests > 0 ? clientCPUSeconds * 1e6 / Double(requests) : 0 }
    /// Seconds spent publishing the items.
    public var publishSeconds = 0.0
    /// The invariant check read back from Redis.
    public var invariants = InvariantReport()
    /// The request log's path, nil when the run had none.
    public var requestLogPath: String?
    /// Attempt lines written to the request log, warm-up included.
    public var loggedAttempts = 0
    /// Acknowledgement lines written to the request log.
    public var loggedAcknowledgements = 0
    /// Acknowledgement lines that could not be written (their purchases stand).
    public var failedAcknowledgements = 0
    /// The first failure to write the request log, if any.
    public var requestLogFailure: String?

    /// Attempts per second.
    public var throughput: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    /// Attempts that bought.
    public var purchased: Int { results["purchased", default: 0] }
}

/// Runs a simulated flash sale: publishes the items, then many concurrent shoppers send
/// purchase attempts with skewed item popularity, then the invariants are checked from Redis.
public struct SaleRunner: Sendable {
    /// The coordinator the shoppers call.
    public let coordinator: SaleCoordinator

    /// Creates a runner.
    public init(coordinator: SaleCoordinator) { self.coordinator = coordinator }

    /// Runs the sale.
    ///
    /// - Parameters:
    ///   - config: The sale's shape.
    ///   - requestLog: When given, every attempt gets a request id made here, its line is
    ///     written to the log before it is sent, and a purchase's acknowledgement after its
    ///     answer (see ``RequestLog``), so a new process can retry them all after this one is
    ///     killed. Purchases with a request id are never answered by the sold-out shedder: every
    ///     attempt goes to Redis.
    ///   - progress: Called about four times a second while attempts run.
    /// - Returns: The report.
    /// - Throws: ``SaleError`` when publishing or the final check fails; failed attempts are
    ///   counted in the report instead.
    public func run(
        _ config: SaleRunConfig, requestLog: RequestLog? = nil, progress: @escaping @Sendable (SaleProgress) -> Void = { _ in }
    ) async throws(SaleError) -> SaleRunReport {
        guard config.items >= 1, config.users >= 1, config.requests >= 0, config.concurrency >= 1 else {
            throw .invalidInput("items, users and concurrency must be at least 1 and requests at least 0")
        }
        if let share = config.hotShare, !Popularity.validHotShare(share) {
            throw .invalidInput("the hot item's share must be strictly between 0 and 1, got \(share)")
        }
        guard (0...1).contains(config.payShare) else {
            throw .invalidInput("the share of purchases paid must be from 0 to 1, got \(config.payShare)")
        }
        _ = try SaleCoordinator.validatedPayWithin(config.payWithin)
        try SaleInput.validateItem(config.item(config.items - 1))
        if requestLog != nil && config.prefix.utf8.contains(UInt8(ascii: " ")) {
            throw .invalidInput("the item prefix must contain no spaces when attempts are written to a request log")
        }
        var report = SaleRunReport(config: config)
        let clock = ContinuousClock()

        try await coordinator.prepare()
        let publishStart = clock.now
        try await publishAll(config)
        report.publishSeconds = (clock.now - publishStart).seconds

        if config.warmup > 0 {
            var warm = config
            warm.requests = config.warmup
            warm.seed = config.seed &+ 0x5EED
            _ = await shoot(warm, log: requestLog) { _ in }
        }
        let shedBefore = coordinator.shedAnswers
        let cpuBefore = ProcessStats.cpuSeconds
        let (tallies, seconds, shared, nodes) = await shoot(config, log: requestLog, progress: progress)
        report.clientCPUSeconds = ProcessStats.cpuSeconds - cpuBefore
        report.shedAnswers = coordinator.shedAnswers - shedBefore
        report.seconds = seconds
        if let requestLog {
            report.requestLogPath = requestLog.path
            report.failedAcknowledgements = requestLog.failedAcknowledgements
            report.loggedAttempts = requestLog.attempts
            report.loggedAcknowledgements = requestLog.acknowledgements
            report.requestLogFailure = requestLog.failure
        }

        var perNode = [Int](repeating: 0, count: nodes.count)
        for tally in tallies {
            for (kind, count) in tally.results { report.results[kind, default: 0] += count }
            report.errors += tally.errors
            report.payments += tally.payments
            report.failedPayments += tally.failedPayments
            for sample in tally.errorSamples where report.errorSamples.count < 5 && !report.errorSamples.contains(sample) {
                report.errorSamples.append(sample)
            }
            for index in perNode.indices { perNode[index] += tally.perNode[index] }
        }
        let latencies = shared.latencies.snapshot
        report.requests = Int(latencies.count)
        report.perNode = zip(nodes, perNode).map { ($0.name, $1) }
        report.itemsSoldOut = shared.soldOutCount
        func percentile(_ p: Double) -> Double { Double(latencies.quantileMicros(p)) / 1000 }
        report.latencyMs = (percentile(0.5), percentile(0.99), percentile(0.999), Double(latencies.maximum) / 1000)

        if config.checkInvariants {
            let checker = InvariantChecker(client: coordinator.client)
            report.invariants = try await checker.check((0..<config.items).map(config.item))
        }
        return report
    }

    /// Sends `config.requests` attempts from `config.concurrency` tasks; returns their tallies,
    /// the seconds they took and the shared counters.
    /// The id of shopper `number`, `user-NUMBER`, made when it shops: a table of a million ids
    /// would cost the run a cache miss per attempt (and 16 MB), which the client CPU per attempt
    /// would count as the purchase path's.
    static func userID(_ number: Int) -> String {
        precondition(number >= 0)
        var digits = 1
        var rest = number / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return String(unsafeUninitializedCapacity: 5 + digits) { buffer in
            buffer[0] = UInt8(ascii: "u")
            buffer[1] = UInt8(ascii: "s")
            buffer[2] = UInt8(ascii: "e")
            buffer[3] = UInt8(ascii: "r")
            buffer[4] = UInt8(ascii: "-")
            var value = number
            for index in stride(from: 4 + digits, through: 5, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return 5 + digits
        }
    }

    private func shoot(
        _ config: SaleRunConfig, log: RequestLog?, progress: @escaping @Sendable (SaleProgress) -> Void
    ) async -> ([WorkerTally], Double, SharedCounters, [NodeConfig]) {
        let clock = ContinuousClock()
        // One snapshot of the map, so node indexes stay consistent if the topology changes.
        let map = coordinator.client.router.map
        let nodes = map.nodes
        let itemIDs = (0..<config.items).map(config.item)
        let nodeOfItem = itemIDs.map { map.nodeIndex(forKey: ItemKeys(item: $0).meta) }
        // A bucketed item's purchase is counted on the node of the buyer's home bucket.
        let hotLayout = coordinator.cachedLayout(itemIDs[0])
        let nodeOfBucket = hotLayout.map { layout in (0..<layout.count).map { map.nodeIndex(for: layout.slot($0)) } } ?? []
        let popularity = Popularity(items: config.items, skew: config.skew, hotShare: config.hotShare)
        let shared = SharedCounters(items: config.items)
        let coordinator = self.coordinator
        let start = clock.now

        // The shoppers run on the client's I/O thread: a reply resumes its shopper there.
        let executor = coordinator.client.executor
        let tallies = await withTaskGroup(of: WorkerTally?.self) { group in
            for worker in 0..<config.concurrency {
                group.addTask(executorPreference: executor) {
                    var tally = WorkerTally(nodes: nodes.count)
                    var random = SeededRandom(seed: config.seed &* 0x9E37_79B9 &+ UInt64(worker))
                    var seenSoldOut = Set<Int>()
                    var attempts = 0
                    while true {
                        let index = shared.next.add(1, ordering: .relaxed).oldValue
                        if index >= config.requests { break }
                        let item = popularity.pick(using: &random)
                        let user = Self.userID(Int.random(in: 0..<config.users, using: &random))
                        if item == 0, let hotLayout {
                            tally.perNode[nodeOfBucket[hotLayout.home(of: user)]] += 1
                        } else {
                            tally.perNode[nodeOfItem[item]] += 1
                        }
                        let sent = MonotonicClock.now()
                        // The order to pay, for items with a payment deadline.
                        var bought: String?
                        do throws(SaleError) {
                            var requestID: String?
                            if let log {
                                let id = SaleCoordinator.newRequestID()
                                try log.attempt(item: itemIDs[item], user: user, quantity: 1, request: id)
                                requestID = id
                            }
                            let result = try await coordinator.purchase(itemIDs[item], user: user, requestID: requestID)
                            if let log, let requestID, case .purchased(let order, _) = result {
                                log.acknowledge(request: requestID, order: order)
                            }
                            tally.count(result)
                            if case .purchased(let order, _) = result {
                                shared.purchased.add(1, ordering: .relaxed)
                                if config.payWithin != nil { bought = order }
                            }
                            if case .soldOut(0) = result, seenSoldOut.insert(item).inserted { shared.markSoldOut(item) }
                        } catch {
                            tally.errors += 1
                            shared.errors.add(1, ordering: .relaxed)
                            if tally.errorSamples.count < 3 { tally.errorSamples.append(error.message) }
                        }
                        shared.latencies.record(micros: (MonotonicClock.now() &- sent) / 1_000)
                        if let order = bought, Double.random(in: 0..<1, using: &random) < config.payShare {
                            // Paid right after buying, outside the purchase's latency.
                            do throws(SaleError) {
                                if case .paid = try await coordinator.pay(itemIDs[item], order: order) {
                                    tally.payments += 1
                                } else {
                                    tally.failedPayments += 1
                                }
                            } catch {
                                tally.failedPayments += 1
                                if tally.errorSamples.count < 3 { tally.errorSamples.append(error.message) }
                            }
                        }
                        shared.done.add(1, ordering: .relaxed)
                        // Answers given in process (sold-out shedding) never suspend: without a
                        // yield now and then, a shopper on the I/O thread would keep it from
                        // every connection's I/O for as long as its item stays sold out.
                        attempts &+= 1
                        if attempts & 63 == 0 { await Task.yield() }
                    }
                    return tally
                }
            }
            group.addTask {
                while shared.done.load(ordering: .relaxed) < config.requests
                    && shared.finished.load(ordering: .relaxed) < config.concurrency
                {
                    try? await Task.sleep(for: .milliseconds(250))
                    progress(shared.snapshot(seconds: (clock.now - start).seconds))
                }
                return nil
            }
            // In cluster mode the topology is refreshed periodically while the shoppers run.
            let client = coordinator.client
            group.addTask {
                await client.run()
                return nil
            }
            // Items with a payment deadline: the coordinator sweeps while the shoppers run, and
            // stops with them, so the invariant check afterwards reads items at rest.
            if config.payWithin != nil {
                group.addTask {
                    await coordinator.run()
                    return nil
                }
            }
            var collected: [WorkerTally] = []
            for await tally in group {
                if let tally {
                    collected.append(tally)
                    shared.finished.add(1, ordering: .relaxed)
                    if collected.count == config.concurrency { group.cancelAll() }
                }
            }
            return collected
        }
        let seconds = (clock.now - start).seconds
        progress(shared.snapshot(seconds: seconds))
        return (tallies, seconds, shared, nodes)
    }

    private func publishAll(_ config: SaleRunConfig) async throws(SaleError) {
        let coordinator = self.coordinator
        for start in stride(from: 0, to: config.items, by: 256) {
            let range = start..<min(start + 256, config.items)
            let failure: SaleError? = await withTaskGroup(of: SaleError?.self) { group in
                for index in range {
                    group.addTask {
                        do throws(SaleError) {
                            _ = try await coordinator.publish(
                                config.item(index), stock: config.stock, limitPerUser: config.limit, replace: config.replace,
                                buckets: index == 0 ? config.buckets : 1, payWithin: config.payWithin)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                var first: SaleError?
                for await error in group where first == nil { first = error }
                return first
            }
            if let failure { throw failure }
        }
    }
}

/// One shopper task's counts, merged after the run (no sharing while it runs).
private struct WorkerTally: Sendable {
    /// Counts per result kind, indexed like ``PurchaseResult/kinds`` (no string hashing per attempt).
    var counts = [Int](repeating: 0, count: PurchaseResult.kinds.count)
    var errors = 0
    var payments = 0
    var failedPayments = 0
    var errorSamples: [String] = []
    var perNode: [Int]

    init(nodes: Int) { perNode = Array(repeating: 0, count: nodes) }

    mutating func count(_ result: PurchaseResult) { counts[result.kindIndex] += 1 }

    var results: [String: Int] {
        var results: [String: Int] = [:]
        for (kind, count) in zip(PurchaseResult.kinds, counts) where count > 0 { results[kind] = count }
        return results
    }
}

/// Counters the progress line reads while shoppers run.
private final class SharedCounters: Sendable {
    let next = Atomic<Int>(0)
    /// Every answered attempt's latency (the run's report reads quantiles from it).
    let latencies = LatencyRecorder()
    let done = Atomic<Int>(0)
    let purchased = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    private let soldOut: Mutex<Set<Int>>

    init(items: Int) { soldOut = Mutex([]) }

    func markSoldOut(_ item: Int) { soldOut.withLock { _ = $0.insert(item) } }

    var soldOutCount: Int { soldOut.withLock { $0.count } }

    func snapshot(seconds: Double) -> SaleProgress {
        SaleProgress(
            done: done.load(ordering: .relaxed), purchased: purchased.load(ordering: .relaxed),
            itemsSoldOut: soldOutCount, errors: errors.load(ordering: .relaxed), seconds: seconds)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
