import Foundation
import SeckillSale
import SeckillTestSupport
import Synchronization

/// Concurrent shoppers that keep buying until told to stop, recording the answer to every
/// attempt: the traffic a test changes the cluster under. Bounded by `maxAttempts` and by
/// `maxDuration`, whichever comes first.
final class Shoppers: Sendable {
    /// An acknowledged purchase.
    struct Purchase: Sendable {
        var item: String
        var order: String
        /// The receipt said the purchase reached the replicas asked for (always true with
        /// durability off).
        var replicated: Bool
        /// When the call was made and when it returned.
        var sent: ContinuousClock.Instant
        var returned: ContinuousClock.Instant
    }

    /// One attempt: the item's index in the shoppers' list, when it was sent and answered,
    /// and the answer's kind (`purchased`, `soldOut`, ... or `error`).
    struct Attempt: Sendable {
        var item: Int
        var sent: ContinuousClock.Instant
        var returned: ContinuousClock.Instant
        var kind: String
    }

    /// The answers an item with stock to spare gives: a purchase, or, for a user drawn twice,
    /// the per-user limit.
    static let inStockAnswers: Set<String> = ["purchased", "limitReached"]

    /// What the shoppers saw.
    struct Tally: Sendable {
        var attempts = 0
        var log: [Attempt] = []
        var results: [String: Int] = [:]
        var purchases: [Purchase] = []
        /// Every error, as `code: message`.
        var errors: [String] = []
        /// Errors whose call may have been applied (``SaleError/Code/outcomeUnknown``).
        var unknownOutcomes = 0
        /// Errors without a message.
        var silentErrors = 0

        var purchased: Int { results["purchased", default: 0] }
    }

    private let stopped = Atomic<Bool>(false)
    private let started = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    /// Attempts answered so far.
    var done: Int { finished.load(ordering: .relaxed) }

    /// Asks every shopper to stop after its current attempt.
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Runs `workers` shoppers picking among `items` (the first `hot` of them three times as
    /// often as the rest), each user id drawn from `users`; pausing `pause` between attempts.
    func run(
        _ coordinator: SaleCoordinator, items: [String], hot: Int = 0, users: Int = 1_000_000, workers: Int = 32,
        pause: Duration? = nil, maxAttempts: Int = 200_000, maxDuration: Duration = .seconds(60)
    ) async -> Tally {
        let deadline = ContinuousClock.now + maxDuration
        return await withTaskGroup(of: Tally.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var tally = Tally()
                    var random = SystemRandomNumberGenerator()
                    while !self.stopped.load(ordering: .relaxed) && ContinuousClock.now < deadline {
                        guard self.started.add(1, ordering: .relaxed).oldValue < maxAttempts else { break }
                        let index =
                            hot > 0 && Int.random(in: 0..<4, using: &random) < 3
                            ? Int.random(in: 0..<hot, using: &random) : Int.random(in: 0..<items.count, using: &random)
                        let item = items[index]
                        var kind = "error"
                        let user = "shopper-\(worker)-\(Int.random(in: 0..<users, using: &random))"
                        let sent = ContinuousClock.now
                        tally.attempts += 1
                        do throws(SaleError) {
                            let receipt = try await coordinator.purchaseReceipt(item, user: user)
                            kind = receipt.result.kind
                            tally.results[kind, default: 0] += 1
                            if case .purchased(let order, _) = receipt.result {
                                tally.purchases.append(
                                    Purchase(
                                        item: item, order: order, replicated: receipt.isReplicated, sent: sent, returned: .now))
                            }
                        } catch {
                            if error.code == .outcomeUnknown { tally.unknownOutcomes += 1 }
                            if error.message.isEmpty { tally.silentErrors += 1 }
                            tally.errors.append(error.message)
                        }
                        tally.log.append(Attempt(item: index, sent: sent, returned: .now, kind: kind))
                        self.finished.add(1, ordering: .relaxed)
                        if let pause { try? await Task.sleep(for: pause) }
                    }
                    return tally
                }
            }
            var total = Tally()
            for await tally in group {
                total.attempts += tally.attempts
                total.log += tally.log
                for (kind, count) in tally.results { total.results[kind, default: 0] += count }
                total.purchases += tally.purchases
                total.errors += tally.errors
                total.unknownOutcomes += tally.unknownOutcomes
                total.silentErrors += tally.silentErrors
            }
            return total
        }
    }
}
