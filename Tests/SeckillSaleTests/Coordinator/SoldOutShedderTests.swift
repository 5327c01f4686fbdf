import SeckillSale
import Synchronization
import Testing

/// The shedder's rules, driven by a manual clock: no Redis, no sleeps.
@Suite("Sold-out shedder")
struct SoldOutShedderTests {
    static let recheck = Duration.milliseconds(100)
    static let probeTimeout = Duration.seconds(1)
    static let item = "item-1"

    /// A clock that moves only when told, and counts how often it is read.
    final class ManualClock: Sendable {
        private let start = ContinuousClock.now
        private let elapsed = Mutex(Duration.zero)
        private let readCount = Atomic(0)

        var now: ContinuousClock.Instant {
            readCount.add(1, ordering: .relaxed)
            return start + elapsed.withLock { $0 }
        }

        var reads: Int { readCount.load(ordering: .relaxed) }

        func advance(by duration: Duration) {
            elapsed.withLock { $0 += duration }
        }
    }

    static func make(_ clock: ManualClock) -> SoldOutShedder {
        SoldOutShedder(recheck: recheck, probeTimeout: probeTimeout, now: { clock.now })
    }

    /// Sends a purchase of `item` and records that Redis answered sold out.
    static func soldOut(_ shedder: SoldOutShedder, _ item: String = item) {
        guard case .send(let ticket) = shedder.admit(item) else {
            Issue.record("purchase of \(item) was shed before it was answered sold out")
            return
        }
        shedder.record(item, soldOut: true, ticket: ticket)
    }

    static func ticket(_ admission: SoldOutShedder.Admission) -> SoldOutShedder.Ticket? {
        guard case .send(let ticket) = admission else { return nil }
        return ticket
    }

    @Test("an item is not shed until a purchase is answered sold out, nor after other answers")
    func notShedWithoutSoldOut() throws {
        let shedder = Self.make(ManualClock())
        let ticket = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(!ticket.isProbe)
        shedder.record(Self.item, soldOut: false, ticket: ticket)
        #expect(Self.ticket(shedder.admit(Self.item)) != nil)
        #expect(shedder.count == 0)
    }

    @Test("for the recheck interval after a sold-out answer every purchase is shed")
    func shedsForTheRecheckInterval() {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        #expect(shedder.count == 1)
        for _ in 0..<10 { #expect(shedder.admit(Self.item) == .shed) }
        clock.advance(by: Self.recheck - .nanoseconds(1))
        #expect(shedder.admit(Self.item) == .shed)
        // Other items are not affected.
        #expect(Self.ticket(shedder.admit("item-2")) != nil)
    }

    @Test("after the interval exactly one purchase is sent as the probe; the others stay shed")
    func oneProbeAfterTheInterval() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let probe = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(probe.isProbe)
        for _ in 0..<10 { #expect(shedder.admit(Self.item) == .shed) }
        clock.advance(by: Self.probeTimeout / 2)
        #expect(shedder.admit(Self.item) == .shed)
    }

    @Test("the probe's sold-out answer confirms the item for another interval, then probes again")
    func soldOutProbeConfirms() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck + .milliseconds(5))
        let probe = try #require(Self.ticket(shedder.admit(Self.item)))
        clock.advance(by: .milliseconds(5))
        shedder.record(Self.item, soldOut: true, ticket: probe)
        // Counted from the answer: the full interval again.
        clock.advance(by: Self.recheck - .nanoseconds(1))
        #expect(shedder.admit(Self.item) == .shed)
        clock.advance(by: .nanoseconds(1))
        let next = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(next.isProbe)
        #expect(next != probe)
        #expect(shedder.admit(Self.item) == .shed)
    }

    @Test("the probe's answer with stock ends the shedding at once")
    func probeWithStockEndsShedding() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let probe = try #require(Self.ticket(shedder.admit(Self.item)))
        shedder.record(Self.item, soldOut: false, ticket: probe)
        #expect(shedder.count == 0)
        for _ in 0..<3 {
            let ticket = try #require(Self.ticket(shedder.admit(Self.item)))
            #expect(!ticket.isProbe)
        }
    }

    @Test("any answer other than sold out ends the shedding, also one to a purchase that is not the probe")
    func otherAnswerEndsShedding() throws {
        let shedder = Self.make(ManualClock())
        let earlier = try #require(Self.ticket(shedder.admit(Self.item)))
        Self.soldOut(shedder)
        #expect(shedder.admit(Self.item) == .shed)
        shedder.record(Self.item, soldOut: false, ticket: earlier)
        #expect(Self.ticket(shedder.admit(Self.item)) != nil)
    }

    @Test("a probe that never answers holds the item only until confirmation + recheck + probe timeout")
    func stuckProbeStopsHoldingTheItem() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let stuck = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(stuck.isProbe)
        clock.advance(by: Self.probeTimeout - .nanoseconds(1))
        #expect(shedder.admit(Self.item) == .shed)
        #expect(shedder.count == 1)
        clock.advance(by: .nanoseconds(1))
        #expect(shedder.count == 0)
        // The item is dropped: the next purchases go to Redis as ordinary purchases, and
        // the first sold-out answer sheds it again.
        let first = try #require(Self.ticket(shedder.admit(Self.item)))
        let second = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(!first.isProbe && !second.isProbe)
        shedder.record(Self.item, soldOut: true, ticket: first)
        #expect(shedder.admit(Self.item) == .shed)
        // The stuck probe's late answer neither confirms nor clears anything.
        clock.advance(by: Self.recheck)
        shedder.record(Self.item, soldOut: true, ticket: stuck)
        let probe = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(probe.isProbe)
    }

    @Test(
        "no purchase is shed at or after confirmation + recheck + probe timeout, whenever the probe was sent",
        arguments: [Duration.zero, .milliseconds(1), .milliseconds(500), .milliseconds(999), .milliseconds(1000), .seconds(5)])
    func sheddingIsBounded(probeDelay: Duration) {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        let bound = Self.recheck + Self.probeTimeout
        var elapsed = Duration.zero
        func advance(to time: Duration) {
            clock.advance(by: time - elapsed)
            elapsed = time
        }
        advance(to: Self.recheck + probeDelay)
        // The probe (or, past the bound, an ordinary purchase) goes to Redis and never answers.
        #expect(shedder.admit(Self.item) != .shed)
        if elapsed < bound {
            #expect(shedder.admit(Self.item) == .shed)
            advance(to: bound - .nanoseconds(1))
            #expect(shedder.admit(Self.item) == .shed)
        }
        advance(to: max(elapsed, bound))
        for _ in 0..<3 { #expect(shedder.admit(Self.item) != .shed) }
    }

    @Test("a failed probe (error thrown or answer not parsed) lets the next purchase probe again")
    func failedProbeIsReplaced() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let failed = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(shedder.admit(Self.item) == .shed)
        shedder.abandon(Self.item, ticket: failed)
        let next = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(next.isProbe)
        #expect(shedder.admit(Self.item) == .shed)
        // Failing again, and again: never shed for good.
        shedder.abandon(Self.item, ticket: next)
        let third = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(third.isProbe)
        // A repeated report of the first failure does not clear the current probe.
        shedder.abandon(Self.item, ticket: failed)
        #expect(shedder.admit(Self.item) == .shed)
        shedder.record(Self.item, soldOut: false, ticket: third)
        #expect(Self.ticket(shedder.admit(Self.item)) != nil)
    }

    @Test("forget ends the shedding at once")
    func forgetEndsShedding() throws {
        let shedder = Self.make(ManualClock())
        Self.soldOut(shedder)
        #expect(shedder.admit(Self.item) == .shed)
        shedder.forget(Self.item)
        #expect(shedder.count == 0)
        let ticket = try #require(Self.ticket(shedder.admit(Self.item)))
        #expect(!ticket.isProbe)
    }

    @Test("a sold-out answer to a purchase admitted before a forget does not shed the item again")
    func staleSoldOutAfterForgetIsIgnored() throws {
        let shedder = Self.make(ManualClock())
        let stale = try #require(Self.ticket(shedder.admit(Self.item)))
        shedder.forget(Self.item)  // a restock
        shedder.record(Self.item, soldOut: true, ticket: stale)
        #expect(shedder.count == 0)
        #expect(Self.ticket(shedder.admit(Self.item)) != nil)
        // A purchase admitted after the forget does shed it.
        Self.soldOut(shedder)
        #expect(shedder.admit(Self.item) == .shed)
    }

    @Test("a probe's sold-out answer arriving after a forget does not shed the item again")
    func staleProbeAfterForgetIsIgnored() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let probe = try #require(Self.ticket(shedder.admit(Self.item)))
        shedder.forget(Self.item)
        shedder.record(Self.item, soldOut: true, ticket: probe)
        #expect(shedder.count == 0)
        #expect(Self.ticket(shedder.admit(Self.item)) != nil)
        // Not even once the item is shed again by a fresh answer: the old probe is not its probe.
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let fresh = try #require(Self.ticket(shedder.admit(Self.item)))
        shedder.record(Self.item, soldOut: true, ticket: probe)
        #expect(shedder.admit(Self.item) == .shed)
        shedder.record(Self.item, soldOut: false, ticket: fresh)
        #expect(shedder.count == 0)
    }

    @Test("while no item is shed, a ticket carries the latest forget count, so its sold-out answer sheds the item")
    func quietTicketsCarryTheLatestForget() throws {
        let shedder = Self.make(ManualClock())
        for round in 0..<5 {
            shedder.forget("item-\(round + 10)")
            let ticket = try #require(Self.ticket(shedder.admit(Self.item)))
            #expect(shedder.record(Self.item, soldOut: true, ticket: ticket) == .started, "round \(round)")
            #expect(shedder.admit(Self.item) == .shed)
            #expect(shedder.forget(Self.item))
            // Nothing shed again: the next admission is the quiet one once more.
            #expect(shedder.count == 0)
            #expect(shedder.record(Self.item, soldOut: false, ticket: ticket) == .none)
        }
    }

    @Test("a forget of another item keeps this item's shedding and its probe")
    func forgetOfAnotherItemKeepsShedding() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let probe = try #require(Self.ticket(shedder.admit(Self.item)))
        shedder.forget("item-2")
        #expect(shedder.admit(Self.item) == .shed)
        shedder.record(Self.item, soldOut: true, ticket: probe)
        clock.advance(by: Self.recheck - .nanoseconds(1))
        #expect(shedder.admit(Self.item) == .shed)
    }

    @Test("a late sold-out answer to a purchase admitted before the shedding neither extends it nor adds a probe")
    func lateAnswerDoesNotExtend() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        let late = try #require(Self.ticket(shedder.admit(Self.item)))
        Self.soldOut(shedder)
        clock.advance(by: Self.recheck)
        let probe = try #require(Self.ticket(shedder.admit(Self.item)))
        shedder.record(Self.item, soldOut: true, ticket: late)
        #expect(shedder.admit(Self.item) == .shed)
        shedder.abandon(Self.item, ticket: late)
        #expect(shedder.admit(Self.item) == .shed)
        // Still bounded by the first answer: the late one did not count as a confirmation.
        clock.advance(by: Self.probeTimeout)
        #expect(shedder.admit(Self.item) != .shed)
        #expect(probe.isProbe)
    }

    @Test("purchases of items not being shed, and answers other than sold out, never read the clock")
    func hotPathReadsNoClock() throws {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        Self.soldOut(shedder, "shed-item")
        let reads = clock.reads
        for index in 0..<100 {
            let item = "item-\(index)"
            let ticket = try #require(Self.ticket(shedder.admit(item)))
            shedder.record(item, soldOut: false, ticket: ticket)
            shedder.abandon(item, ticket: ticket)
        }
        #expect(clock.reads == reads)
    }

    @Test("memory grows with items, not attempts")
    func memoryBoundedByItems() {
        let clock = ManualClock()
        let shedder = Self.make(clock)
        let items = (0..<3).map { "item-\($0)" }
        for round in 0..<10_000 {
            let item = items[round % items.count]
            if case .send(let ticket) = shedder.admit(item) {
                switch round % 7 {
                case 0: shedder.abandon(item, ticket: ticket)
                case 1: shedder.record(item, soldOut: false, ticket: ticket)
                default: shedder.record(item, soldOut: true, ticket: ticket)
                }
            }
            if round % 1_000 == 999 { shedder.forget(item) }
            clock.advance(by: .milliseconds(7))
            #expect(shedder.count <= items.count)
        }
        clock.advance(by: Self.recheck + Self.probeTimeout)
        #expect(shedder.count == 0)
    }

    @Test("under concurrent purchases at most one probe per item is in flight at a time")
    func atMostOneProbeInFlight() async {
        let clock = ManualClock()
        // A long probe timeout, so that a slow probe is never dropped: every probe here is
        // one the shedder is waiting for.
        let shedder = SoldOutShedder(recheck: Self.recheck, probeTimeout: .seconds(3600), now: { clock.now })
        let items = (0..<4).map { "item-\($0)" }
        let tally = ProbeTally()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<2_000 {
                        let item = items[(task + round) % items.count]
                        clock.advance(by: Self.recheck / 16)
                        guard case .send(let ticket) = shedder.admit(item) else {
                            tally.shed.add(1, ordering: .relaxed)
                            continue
                        }
                        if ticket.isProbe { tally.sent(item) }
                        await Task.yield()
                        // Out of flight before the shedder hears of it, as in the coordinator.
                        if ticket.isProbe { tally.answered(item) }
                        if round % 5 == 0 {
                            shedder.abandon(item, ticket: ticket)
                        } else {
                            shedder.record(item, soldOut: true, ticket: ticket)
                        }
                    }
                }
            }
        }
        #expect(tally.worst.load(ordering: .relaxed) == 1)
        #expect(tally.probes.load(ordering: .relaxed) > 0)
        #expect(tally.shed.load(ordering: .relaxed) > 0)
    }

    /// Probes in flight per item, and the most seen at once.
    final class ProbeTally: Sendable {
        let inFlight = Mutex([String: Int]())
        let worst = Atomic(0)
        let probes = Atomic(0)
        let shed = Atomic(0)

        func sent(_ item: String) {
            probes.add(1, ordering: .relaxed)
            let count = inFlight.withLock { counts in
                counts[item, default: 0] += 1
                return counts[item, default: 0]
            }
            worst.max(count, ordering: .relaxed)
        }

        func answered(_ item: String) {
            inFlight.withLock { $0[item, default: 0] -= 1 }
        }
    }
}
