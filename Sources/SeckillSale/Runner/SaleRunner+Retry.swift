import Synchronization

/// What retrying a request log did.
public struct RetryReport: Sendable {
    /// Attempts re-sent (distinct request ids).
    public var attempts = 0
    /// Answers per result kind (`purchased`, `soldOut`, `limitReached`, ...).
    public var results: [String: Int] = [:]
    /// Attempts that failed with an error: their outcome is still unknown, retry again.
    public var failed = 0
    /// A few distinct error messages.
    public var errorSamples: [String] = []
    /// Attempts the log acknowledged as bought (`A` lines).
    public var acknowledged = 0
    /// Acknowledged attempts the retry answered "purchased" with the logged order id.
    public var acknowledgedConfirmed = 0
    /// Acknowledged attempts answered otherwise (their request record expired or was lost),
    /// one line each, the first 50.
    public var mismatches: [String] = []
    /// How many acknowledged attempts were answered otherwise.
    public var mismatchCount = 0
    /// Seconds the retries took.
    public var seconds = 0.0
    /// Distinct items in the log.
    public var items = 0
    /// The invariant check of the log's items, read back from Redis afterwards.
    public var invariants = InvariantReport()

    /// Attempts confirmed bought: bought before (the recorded answer came back) or now.
    public var bought: Int { results["purchased", default: 0] }
    /// Attempts refused (sold out, limit reached, ...).
    public var refused: Int { results.values.reduce(0, +) - bought }
}

extension SaleRunner {
    /// Re-sends every attempt of a request log with its own request id, `concurrency` at a time.
    ///
    /// A purchase that bought returns its recorded answer (the same order id) and buys nothing
    /// more; one that was never sent, or was refused, is evaluated afresh, which cannot buy
    /// twice either since it bought nothing before. This holds as long as the item exists (request
    /// records live with it, until it is unpublished or replaced).
    ///
    /// - Parameters:
    ///   - log: The parsed log (``RequestLogContents/read(path:)``).
    ///   - concurrency: Attempts in flight at once.
    ///   - checkInvariants: Read the log's items back from Redis afterwards and check them.
    /// - Returns: The report; failed attempts are counted in it.
    /// - Throws: ``SaleError`` when the scripts cannot be loaded or the check fails.
    public func retry(_ log: RequestLogContents, concurrency: Int, checkInvariants: Bool = true) async throws(SaleError) -> RetryReport {
        guard concurrency >= 1 else { throw .invalidInput("concurrency must be at least 1, got \(concurrency)") }
        var report = RetryReport()
        report.attempts = log.attempts.count
        report.acknowledged = log.acknowledged
        let items = Set(log.attempts.map(\.item)).sorted()
        report.items = items.count
        try await coordinator.prepare()

        let clock = ContinuousClock()
        let start = clock.now
        let attempts = log.attempts
        let cursor = RetryCursor()
        let coordinator = self.coordinator
        let tallies = await withTaskGroup(of: RetryTally?.self) { group in
            let workers = min(concurrency, max(1, attempts.count))
            for _ in 0..<workers {
                group.addTask {
                    var tally = RetryTally()
                    while true {
                        let index = cursor.next.add(1, ordering: .relaxed).oldValue
                        if index >= attempts.count { break }
                        let attempt = attempts[index]
                        do throws(SaleError) {
                            let result = try await coordinator.purchase(
                                attempt.item, user: attempt.user, quantity: attempt.quantity, requestID: attempt.request)
                            tally.counts[result.kindIndex] += 1
                            if let logged = attempt.acknowledgedOrder {
                                if case .purchased(logged, _) = result {
                                    tally.confirmed += 1
                                } else {
                                    tally.mismatches.append(
                                        "line \(attempt.line): request \(attempt.request) was acknowledged as order \(logged) but the retry answered \(result)"
                                    )
                                }
                            }
                        } catch {
                            tally.failed += 1
                            if tally.errorSamples.count < 3 { tally.errorSamples.append(error.message) }
                        }
                    }
                    return tally
                }
            }
            // In cluster mode the topology is refreshed while the retries run.
            let client = coordinator.client
            group.addTask {
                await client.run()
                return nil
            }
            var collected: [RetryTally] = []
            for await tally in group {
                guard let tally else { continue }
                collected.append(tally)
                if collected.count == workers { group.cancelAll() }
            }
            return collected
        }
        report.seconds = (clock.now - start).seconds
        for tally in tallies {
            for (kind, count) in zip(PurchaseResult.kinds, tally.counts) where count > 0 { report.results[kind, default: 0] += count }
            report.failed += tally.failed
            report.acknowledgedConfirmed += tally.confirmed
            report.mismatchCount += tally.mismatches.count
            for sample in tally.errorSamples where report.errorSamples.count < 5 && !report.errorSamples.contains(sample) {
                report.errorSamples.append(sample)
            }
            report.mismatches += tally.mismatches.prefix(max(0, 50 - report.mismatches.count))
        }
        if checkInvariants {
            report.invariants = try await InvariantChecker(client: coordinator.client).check(items)
        }
        return report
    }
}

/// One retry task's counts, merged afterwards.
private struct RetryTally: Sendable {
    var counts = [Int](repeating: 0, count: PurchaseResult.kinds.count)
    var failed = 0
    var errorSamples: [String] = []
    var confirmed = 0
    var mismatches: [String] = []
}

/// The next attempt to retry, shared by the retry tasks.
private final class RetryCursor: Sendable {
    let next = Atomic<Int>(0)
}
