import Synchronization

/// Answers "sold out" in process for items Redis recently reported sold out, so the end of a
/// sale (most items gone, demand still high) costs no round trips.
///
/// The coordinator asks ``admit(_:)`` before each purchase that carries no caller's request id
/// (one that does is never shed, so it always gets the answer Redis recorded for it), and
/// reports what became of every purchase it sent: ``record(_:soldOut:ticket:)`` with Redis's
/// answer, or ``abandon(_:ticket:)`` when the call failed or its answer could not be parsed.
/// A restock, publish or cancel through the coordinator calls ``forget(_:)`` once it is done.
///
/// The rules, with `c` the time the item's latest accepted sold-out answer was recorded:
/// - **Entering.** An item is shed once a purchase is answered sold out (remaining 0), unless
///   a ``forget(_:)`` came between that purchase's admission and its answer (see Forgetting).
/// - **Trusted.** Until `c + recheck` every purchase of the item is shed.
/// - **Probing.** From `c + recheck` the first purchase is sent to Redis as the probe and the
///   others are shed while it is in flight. The probe's sold-out answer confirms the item (a
///   new `c`); any other answer ends the shedding.
/// - **Bounded.** No purchase is shed at or after `c + recheck + probeTimeout`, so a probe
///   stuck behind `TRYAGAIN` retries or a slow node holds the item at most `probeTimeout` (the
///   coordinator passes the command timeout). The first purchase from that time on drops the
///   item and goes to Redis as an ordinary purchase, whose sold-out answer sheds the item
///   again. Dropping rather than sending a second probe keeps the bound a function of `c`
///   alone: only a fresh sold-out answer extends shedding. (A first probe sent late, after a
///   lull, therefore holds the item for less than `probeTimeout`; the cost is that purchases
///   arriving in the rest of that window go to Redis until an answer comes back.)
/// - **Failed probe.** ``abandon(_:ticket:)`` of the probe (an error thrown, an answer that
///   cannot be parsed) clears it, so the next purchase probes again.
/// - **Ending.** Any answer other than sold out, to any purchase, ends the shedding at once.
/// - **Late answers.** Only the probe's answer confirms an item being shed. A sold-out answer
///   to a purchase admitted before the item was shed neither extends its shedding nor clears
///   its probe, which keeps at most one probe in flight per confirmation.
/// - **Forgetting.** ``forget(_:)`` removes the item at once, and no purchase admitted before
///   it can shed the item again: its ``Ticket`` carries the count of forgets at its admission,
///   and a sold-out answer whose count is out of date is ignored. The count is one for all
///   items rather than one per item ever restocked, so a forget of any item also stops answers
///   then in flight for other items from starting their shedding: it costs those items one
///   more round trip, never a wrong answer. The probe's answer is matched by the probe's own
///   id instead, so forgets of other items do not disturb items already shed.
/// - **Cost.** While no item is shed (the sale's busy start), ``admit(_:)`` and recording an
///   answer other than sold out read one atomic: no lock, no hashing of the item id. Otherwise,
///   for an item not being shed, each takes one lock and one dictionary lookup and reads no
///   clock. The clock is read only for items being shed and for sold-out answers.
/// - **Memory.** At most one entry per item, none per attempt: a ticket is a value the caller
///   holds. An entry past its bound is dropped by the item's next purchase or ``forget(_:)``.
///
/// A restock made elsewhere is therefore seen within `recheck` plus one round trip while
/// purchases keep coming, and no purchase is shed later than `recheck + probeTimeout` after
/// the latest sold-out answer.
package final class SoldOutShedder: Sendable {
    /// What ``admit(_:)`` gave a purchase sent to Redis; hand it back with its outcome.
    package struct Ticket: Sendable, Hashable {
        /// The shedder's count of forgets when the purchase was admitted.
        fileprivate let generation: UInt64
        /// The probe's id, or 0 for a purchase that is not a probe.
        fileprivate let probe: UInt64

        /// Whether the purchase is the probe of an item being shed.
        package var isProbe: Bool { probe != 0 }
    }

    /// What to do with a purchase.
    package enum Admission: Sendable, Hashable {
        /// Answer "sold out" without asking Redis.
        case shed
        /// Send it to Redis, then report the outcome with the ticket.
        case send(Ticket)
    }

    /// How long a sold-out answer is trusted before Redis is asked again.
    package let recheck: Duration
    /// How long an unanswered probe may hold the item shed beyond ``recheck``.
    package let probeTimeout: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())
    /// `state.generation << 1`, plus 1 while any item is shed: stored under the lock after
    /// every change, read without it by the paths that have nothing to do while no item is shed.
    private let summary = Atomic<UInt64>(0)

    /// Creates an empty shedder.
    ///
    /// - Parameters:
    ///   - recheck: How long a sold-out answer is trusted before a probe is sent.
    ///   - probeTimeout: How long an unanswered probe keeps the item shed, counted from the
    ///     end of `recheck`; the coordinator passes the command timeout.
    ///   - now: The clock, read only for items being shed; tests pass a manual one.
    package init(
        recheck: Duration, probeTimeout: Duration,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.recheck = recheck
        self.probeTimeout = probeTimeout
        self.now = now
    }

    /// Decides whether a purchase of `item` is answered "sold out" in process or sent to Redis.
    ///
    /// - Parameter item: The item id.
    /// - Returns: ``Admission/shed``, or ``Admission/send(_:)`` with the ticket to report the
    ///   outcome with (``record(_:soldOut:ticket:)`` or ``abandon(_:ticket:)``).
    package func admit(_ item: String) -> Admission {
        let quiet = summary.load(ordering: .acquiring)
        if quiet & 1 == 0 { return .send(Ticket(generation: quiet >> 1, probe: 0)) }
        return changing { state in
            guard !state.entries.isEmpty, let entry = state.entries[item] else {
                return .send(Ticket(generation: state.generation, probe: 0))
            }
            let age = now() - entry.confirmedAt
            if age < recheck {
                return .shed
            }
            if age < recheck + probeTimeout {
                if entry.probe != 0 { return .shed }
                state.lastProbe += 1
                state.entries[item]?.probe = state.lastProbe
                return .send(Ticket(generation: state.generation, probe: state.lastProbe))
            }
            state.entries[item] = nil
            return .send(Ticket(generation: state.generation, probe: 0))
        }
    }

    /// Records Redis's answer to a purchase admitted with `ticket`.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - soldOut: Whether Redis answered sold out with nothing left (remaining 0).
    ///   - ticket: What ``admit(_:)`` returned for the purchase.
    /// - Returns: Whether this answer started or ended the shedding of `item` (for logs).
    @discardableResult
    package func record(_ item: String, soldOut: Bool, ticket: Ticket) -> Change {
        guard soldOut else {
            if summary.load(ordering: .acquiring) & 1 == 0 { return .none }
            return changing { state in
                guard !state.entries.isEmpty, state.entries.removeValue(forKey: item) != nil else { return .none }
                return .ended
            }
        }
        let now = now()
        return changing { state in
            if let entry = state.entries[item] {
                guard ticket.isProbe, ticket.probe == entry.probe else { return .none }
                state.entries[item] = Entry(confirmedAt: now, probe: 0)
                return .none
            } else if ticket.generation == state.generation {
                state.entries[item] = Entry(confirmedAt: now, probe: 0)
                return .started
            }
            return .none
        }
    }

    /// What an answer changed.
    package enum Change: Sendable, Hashable {
        /// Nothing: the item was and stays shed, or was and stays not shed.
        case none
        /// The item is shed from now on.
        case started
        /// The item is no longer shed.
        case ended
    }

    /// Reports that a purchase admitted with `ticket` got no usable answer (an error was
    /// thrown, or the answer could not be parsed): when it was the probe, the next purchase
    /// probes again.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - ticket: What ``admit(_:)`` returned for the purchase.
    package func abandon(_ item: String, ticket: Ticket) {
        guard ticket.isProbe else { return }
        changing { state in
            if state.entries[item]?.probe == ticket.probe { state.entries[item]?.probe = 0 }
        }
    }

    /// Stops shedding `item` (its stock changed through this coordinator); no answer to a
    /// purchase admitted before this call can shed it again.
    ///
    /// - Parameter item: The item id.
    /// - Returns: Whether `item` was being shed.
    @discardableResult
    package func forget(_ item: String) -> Bool {
        changing { state in
            state.generation += 1
            return state.entries.removeValue(forKey: item) != nil
        }
    }

    /// Runs `body` on the state under the lock and stores the new ``summary`` before unlocking.
    private func changing<Result>(_ body: (inout State) -> Result) -> Result {
        state.withLock { state in
            let result = body(&state)
            summary.store(state.generation << 1 | (state.entries.isEmpty ? 0 : 1), ordering: .releasing)
            return result
        }
    }

    /// Items currently shed: answered sold out, and not yet past their bound.
    package var count: Int {
        let now = now()
        let bound = recheck + probeTimeout
        return state.withLock { state in
            state.entries.values.count { now - $0.confirmedAt < bound }
        }
    }
}

extension SoldOutShedder {
    /// One item being shed.
    private struct Entry {
        /// When the latest accepted sold-out answer was recorded.
        var confirmedAt: ContinuousClock.Instant
        /// The id of the probe in flight, or 0.
        var probe: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Forgets so far; a ticket's copy tells whether one came after its admission.
        var generation: UInt64 = 0
        /// The id of the latest probe; ids start at 1 so that 0 means "no probe".
        var lastProbe: UInt64 = 0
    }
}
