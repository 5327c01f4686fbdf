import SeckillTestSupport
import Testing

@testable import SeckillSale

@Suite("BucketState")
struct BucketStateTests {
    @Test("purchases finding one bucket empty share one refill and its answer; the refill sees their whole demand")
    func refillsCoalesce() async throws {
        let state = BucketState()
        let runs = Locked(0)
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let outcome = await state.refill("item#1#0", need: 2) { demand in
                        runs.withLock { $0 += 1 }
                        // The refill lasts until every caller has joined it: 20 x 2 units.
                        while demand() < 40 { try? await Task.sleep(for: .milliseconds(1)) }
                        return .empty(remaining: demand())
                    }
                    if case .empty(let remaining) = outcome { return "empty \(remaining)" }
                    return "\(outcome)"
                }
            }
            var collected: [String] = []
            for await outcome in group { collected.append(outcome) }
            return collected
        }
        #expect(runs.value == 1)
        #expect(outcomes == Array(repeating: "empty 40", count: 20))
        // A new refill of the same bucket starts once the last one ended.
        let again = await state.refill("item#1#0", need: 1) { demand in .empty(remaining: demand()) }
        guard case .empty(1) = again else {
            Issue.record("\(again)")
            return
        }
    }

    @Test("a cached layout is found, forgotten when stored as nil, and absent items cost no lock")
    func layoutCache() {
        let state = BucketState()
        #expect(state.layout("a") == nil)
        let layout = BucketLayout(item: "a", generation: 1, salts: [0, 1], limit: 0)
        state.store("a", layout)
        #expect(state.layout("a") == layout)
        #expect(state.layout("b") == nil)
        state.store("a", nil)
        #expect(state.layout("a") == nil)
    }

    @Test("home buckets are stable, spread evenly, and order ids name their bucket")
    func homes() {
        let layout = BucketLayout(item: "a", generation: 1, salts: [0, 0, 0], limit: 0)
        var counts = [0, 0, 0]
        for index in 0..<30_000 { counts[layout.home(of: "user-\(index)")] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
        #expect(layout.home(of: "alice") == layout.home(of: "alice"))
        #expect(BucketLayout.parseOrder(BucketLayout.order(bucket: 5, entry: "1-2"))! == (5, "1-2"))
        #expect(BucketLayout.parseOrder("64:1-2") == nil)
    }
}
