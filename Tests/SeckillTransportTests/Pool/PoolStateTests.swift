import Testing

@testable import SeckillTransport

/// A connection as the pool's bookkeeping sees it.
private final class FakeConnection: PoolConnection {
    var isClosed = false
    var inFlight = 0
}

/// Waiters are plain ids: the state machine never touches what it queues.
private typealias State = PoolState<FakeConnection, Int>

private func ms(_ value: UInt64) -> UInt64 { value * 1_000_000 }

private func state(
    connections: Int = 1, maxInFlight: Int = 4, maxWaiting: Int = 100_000,
    acquireTimeout: Duration = .milliseconds(500)
) -> State {
    State(
        options: PoolOptions(
            connections: connections, maxInFlight: maxInFlight, maxWaiting: maxWaiting,
            acquireTimeout: acquireTimeout, reconnectMin: .milliseconds(50), reconnectMax: .milliseconds(200)),
        node: "test-node")
}

/// Takes every permit and queues `waiters` callers (ids 1...), all at `now`.
private func saturated(_ state: inout State, waiters: Int, now: UInt64 = 0) {
    for _ in 0..<state.options.maxInFlight { #expect(state.acquire(1, now: now) == .granted) }
    for id in 1...max(1, waiters) where waiters > 0 {
        #expect(state.acquire(1, now: now) == .wait)
        #expect(state.enqueueWaiter(count: 1, now: now, continuation: id) == nil)
    }
}

/// Releases one permit every `everyMs` from `start` for `count` releases; returns the ids granted.
@discardableResult
private func drain(_ state: inout State, count: Int, everyMs: UInt64, from start: UInt64) -> [Int] {
    var granted: [Int] = []
    for step in 1...count {
        granted += state.release(1, now: start + ms(everyMs) * UInt64(step)).map(\.continuation)
    }
    return granted
}

@Suite("PoolState as a state machine (injected clock, no sockets, no sleeps)")
struct PoolStateTests {
    // MARK: Grant and queue

    @Test("permits are granted up to the in-flight bound; the next caller queues")
    func grantsUpToTheBoundThenQueues() {
        var pool = state(maxInFlight: 4)
        for _ in 0..<4 { #expect(pool.acquire(1, now: 0) == .granted) }
        #expect(pool.inFlight == 4)
        #expect(pool.acquire(1, now: 0) == .wait)
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 7) == nil)
        #expect(pool.waitingCount == 1)
        #expect(pool.inFlight == 4)
    }

    @Test("a caller told to wait is granted at once if permits came back before it queued")
    func enqueueDecidesAfresh() {
        var pool = state(maxInFlight: 1)
        #expect(pool.acquire(1, now: 0) == .granted)
        #expect(pool.acquire(1, now: 0) == .wait)
        #expect(pool.release(1, now: ms(1)).isEmpty)
        #expect(pool.enqueueWaiter(count: 1, now: ms(1), continuation: 1) == .granted)
        #expect(pool.inFlight == 1)
        #expect(pool.waitingCount == 0)
    }

    @Test("a new caller does not overtake queued ones even when a permit is free for it")
    func newCallersQueueBehindWaiters() {
        var pool = state(maxInFlight: 4)
        saturated(&pool, waiters: 0)
        #expect(pool.enqueueWaiter(count: 3, now: 0, continuation: 1) == nil)
        #expect(pool.release(1, now: ms(1)).isEmpty)  // 1 free, the head needs 3
        #expect(pool.acquire(1, now: ms(1)) == .wait)
    }

    // MARK: Release and FIFO order

    @Test("released permits wake waiters in arrival order, as many as fit")
    func releaseWakesWaitersInOrder() {
        var pool = state(maxInFlight: 4)
        saturated(&pool, waiters: 5)
        #expect(pool.release(1, now: ms(1)).map(\.continuation) == [1])
        #expect(pool.release(3, now: ms(2)).map(\.continuation) == [2, 3, 4])
        #expect(pool.inFlight == 4)
        #expect(pool.waitingCount == 1)
        #expect(pool.release(4, now: ms(3)).map(\.continuation) == [5])
        #expect(pool.inFlight == 1)
        #expect(pool.waitingCount == 0)
    }

    @Test("a batch at the head is granted before smaller callers behind it")
    func batchAtTheHeadKeepsItsPlace() {
        var pool = state(maxInFlight: 4)
        saturated(&pool, waiters: 0)
        #expect(pool.enqueueWaiter(count: 3, now: 0, continuation: 1) == nil)
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 2) == nil)
        #expect(pool.release(2, now: ms(1)).isEmpty)
        let granted = pool.release(1, now: ms(2))
        #expect(granted.map(\.continuation) == [1])
        #expect(granted.first?.count == 3)
        #expect(pool.inFlight == 4)
        #expect(pool.release(1, now: ms(3)).map(\.continuation) == [2])
    }

    // MARK: Timeout

    @Test("a waiter is expired at its own deadline, arrival plus the acquire timeout; later ones stay")
    func waitersExpireAtTheirDeadline() {
        var pool = state(maxInFlight: 1, acquireTimeout: .milliseconds(500))
        #expect(pool.acquire(1, now: 0) == .granted)
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 1) == nil)
        #expect(pool.enqueueWaiter(count: 1, now: ms(100), continuation: 2) == nil)
        #expect(pool.expireWaiters(now: ms(499)).isEmpty)
        #expect(pool.expireWaiters(now: ms(500)).map(\.continuation) == [1])
        #expect(pool.waitingCount == 1)
        #expect(pool.expireWaiters(now: ms(599)).isEmpty)
        #expect(pool.expireWaiters(now: ms(600)).map(\.continuation) == [2])
        // Expired waiters held no permits: the one in flight is still the only one.
        #expect(pool.inFlight == 1)
        #expect(pool.release(1, now: ms(601)).isEmpty)
        #expect(pool.inFlight == 0)
    }

    // MARK: Admission by expected wait

    @Test("with no drain estimate yet, every caller is admitted however long the queue")
    func noEstimateAdmits() {
        var pool = state(maxInFlight: 4)
        saturated(&pool, waiters: 10_000)
        #expect(pool.drainRate == nil)
        #expect(pool.expectedWait(for: 1) == nil)
        #expect(pool.waitingCount == 10_000)
    }

    @Test("releases while nobody waits give no drain estimate (they measure demand, not capacity)")
    func idleReleasesAreNotMeasured() {
        var pool = state(maxInFlight: 4)
        for step in 0..<100 {
            #expect(pool.acquire(1, now: ms(UInt64(step))) == .granted)
            #expect(pool.release(1, now: ms(UInt64(step)) + 1).isEmpty)
        }
        #expect(pool.drainRate == nil)
    }

    @Test("the drain rate is permits released per second while callers wait, measured per window")
    func drainRateIsMeasured() {
        var pool = state(maxInFlight: 10)
        saturated(&pool, waiters: 100)
        #expect(State.drainWindow == ms(20))
        // One permit back every millisecond: 1,000 per second.
        drain(&pool, count: 19, everyMs: 1, from: 0)
        #expect(pool.drainRate == nil)  // 19 ms: the first window is not complete yet
        drain(&pool, count: 1, everyMs: 1, from: ms(19))
        #expect(pool.drainRate == 1_000)
    }

    @Test("a slower node lowers the estimate window by window; a faster one raises it quicker")
    func estimateFollowsTheNode() throws {
        var pool = state(maxInFlight: 10)
        saturated(&pool, waiters: 200)
        drain(&pool, count: 20, everyMs: 1, from: 0)  // 1,000/s
        // Then one permit every 20 ms: 50/s, a window per release.
        drain(&pool, count: 1, everyMs: 20, from: ms(20))
        let afterOne = try #require(pool.drainRate)
        #expect(abs(afterOne - (1_000 + State.drainSmoothingDown * (50 - 1_000))) < 1e-6)
        drain(&pool, count: 30, everyMs: 20, from: ms(40))
        let slow = try #require(pool.drainRate)
        #expect(abs(slow - 50) < 1)
        // Back to one permit per millisecond: the first window moves half way at once.
        drain(&pool, count: 20, everyMs: 1, from: ms(640))
        let recovered = try #require(pool.drainRate)
        #expect(abs(recovered - (slow + State.drainSmoothingUp * (1_000 - slow))) < 1e-6)
    }

    @Test("an estimate alone refuses nobody until a waiter has timed out")
    func estimateRefusesOnlyWhenOverloaded() throws {
        var pool = state(maxInFlight: 10, acquireTimeout: .milliseconds(500))
        saturated(&pool, waiters: 100)
        drain(&pool, count: 20, everyMs: 1, from: 0)  // 1,000 permits/s; 80 still queued
        for id in 1_000..<2_000 {
            #expect(pool.enqueueWaiter(count: 1, now: ms(20), continuation: id) == nil)
        }
        let wait = try #require(pool.expectedWait(for: 1))
        #expect(wait > ms(1_000))  // well past the timeout, but nobody has timed out yet
        #expect(pool.acquire(1, now: ms(20)) == .wait)
    }

    @Test("once a waiter timed out, a caller whose expected wait exceeds twice the acquire timeout is refused at once, with the figures")
    func refusedWhenExpectedWaitExceedsTimeout() throws {
        var pool = state(maxInFlight: 10, acquireTimeout: .milliseconds(500))
        saturated(&pool, waiters: 100)
        drain(&pool, count: 20, everyMs: 1, from: 0)  // 1,000 permits/s; 80 still queued
        #expect(pool.expireWaiters(now: ms(500)).count == 80)
        let now = ms(500)
        // 1 permit ahead per queued caller: at 1,000/s the queue may hold 2 x 500 ms = 1,000 permits.
        var admitted = 0
        while pool.enqueueWaiter(count: 1, now: now, continuation: 1_000 + admitted) == nil { admitted += 1 }
        #expect(State.refusalFactor == 2)
        #expect(admitted == 1_000)
        let refusal = pool.acquire(1, now: now)
        guard case .refused(.expectedWait(let nanoseconds, let waiting, let rate)) = refusal else {
            Issue.record("expected an expected-wait refusal, got \(refusal)")
            return
        }
        #expect(waiting == 1_000)
        #expect(rate == 1_000)
        #expect(nanoseconds == ms(1_001))
        // The refused caller took nothing.
        #expect(pool.waitingCount == 1_000)
        #expect(pool.inFlight == 10)
        // An acquire timeout after the last time-out, the queue is trusted again: callers wait.
        #expect(pool.acquire(1, now: ms(999)) != .wait)
        #expect(pool.acquire(1, now: ms(1_000)) == .wait)
    }

    @Test("a waiter granted within a tenth of the timeout of its deadline also starts early refusals")
    func nearTimeoutGrantStartsRefusals() {
        var pool = state(maxInFlight: 10, acquireTimeout: .milliseconds(500))
        saturated(&pool, waiters: 100)
        drain(&pool, count: 20, everyMs: 1, from: 0)
        for id in 1_000..<2_000 { _ = pool.enqueueWaiter(count: 1, now: ms(20), continuation: id) }
        #expect(pool.acquire(1, now: ms(440)) == .wait)
        // Waiter 21 queued at 0 ms is granted at 455 ms: 45 ms before its deadline.
        #expect(pool.release(1, now: ms(455)).map(\.continuation) == [21])
        guard case .refused(.expectedWait) = pool.acquire(1, now: ms(455)) else {
            Issue.record("expected an expected-wait refusal")
            return
        }
    }

    @Test("a window in which callers were refused may raise the drain rate, never lower it")
    func refusalWindowsOnlyRaiseTheEstimate() throws {
        var pool = state(maxInFlight: 10, acquireTimeout: .milliseconds(500))
        saturated(&pool, waiters: 100)
        drain(&pool, count: 20, everyMs: 1, from: 0)  // 1,000 permits/s
        _ = pool.expireWaiters(now: ms(500))
        var id = 1_000
        while pool.enqueueWaiter(count: 1, now: ms(500), continuation: id) == nil { id += 1 }  // ends refused
        // One permit every 2 ms (500/s) in a window with a refusal: not counted.
        drain(&pool, count: 10, everyMs: 2, from: ms(500))
        #expect(pool.drainRate == 1_000)
        // Ten permits a millisecond (10,000/s) in a window with a refusal: counted, a lower
        // bound of what the node serves, weighted half.
        while pool.enqueueWaiter(count: 1, now: ms(520), continuation: id) == nil { id += 1 }
        for step in 1...20 { _ = pool.release(10, now: ms(520 + UInt64(step))) }
        #expect(pool.drainRate == 5_500)
        // Without refusals, a slower window lowers it.
        drain(&pool, count: 20, everyMs: 1, from: ms(540))
        #expect(pool.drainRate == 5_500 + State.drainSmoothingDown * (1_000 - 5_500))
    }

    @Test("a caller the queue can serve in time is admitted even when the queue is long")
    func longQueueServedInTimeIsAdmitted() throws {
        var pool = state(maxInFlight: 10, acquireTimeout: .milliseconds(500))
        saturated(&pool, waiters: 200)
        _ = pool.expireWaiters(now: ms(500))  // overloaded from here on
        for id in 1...200 { #expect(pool.enqueueWaiter(count: 1, now: ms(500), continuation: id) == nil) }
        // 10 permits per millisecond: 10,000/s, so 4,000 queued callers wait about 400 ms.
        for step in 1...20 { _ = pool.release(10, now: ms(500 + UInt64(step))) }
        #expect(pool.drainRate == 10_000)
        var id = 10_000
        while pool.waitingCount < 4_000 {
            #expect(pool.enqueueWaiter(count: 1, now: ms(520), continuation: id) == nil)
            id += 1
        }
        let wait = try #require(pool.expectedWait(for: 1))
        #expect(wait == 400_100_000)
    }

    @Test("a full queue refuses at once; a batch larger than the bound is refused")
    func hardLimits() {
        var pool = state(maxInFlight: 4, maxWaiting: 3)
        saturated(&pool, waiters: 3)
        #expect(pool.acquire(1, now: 0) == .refused(.queueFull(waiting: 3)))
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 99) == .refused(.queueFull(waiting: 3)))
        #expect(pool.acquire(5, now: 0) == .refused(.tooLarge(count: 5)))
        #expect(pool.waitingCount == 3)
    }

    // MARK: Fast path

    @Test("the fast path grants a permit with an open connection, and changes nothing when the caller would wait or connect")
    func fastPath() throws {
        var pool = state(connections: 2, maxInFlight: 2)
        // No connection yet: nil, and no slot was marked connecting (the slow path connects).
        let none = pool.acquireOpenConnection(now: 0, fill: .always)
        #expect(none == nil)
        #expect(pool.inFlight == 0)
        #expect(!pool.isConnecting)
        guard case .connect(let slot) = pool.chooseConnection(now: 0, fill: .never) else {
            Issue.record("expected a connect")
            return
        }
        let open = FakeConnection()
        _ = pool.finishConnecting(slot: slot, result: .success(open), now: 0)

        // Open and idle: granted on it; with .always the empty slot is handed out to fill.
        let granted = pool.acquireOpenConnection(now: 0, fill: .always)
        let first = try #require(granted)
        #expect(first.connection === open)
        let filling = try #require(first.fillSlot)
        #expect(pool.inFlight == 1)
        _ = pool.finishConnecting(
            slot: filling, result: .failure(RedisError(code: .connectFailed, delivery: .notSent, node: "n", message: "x")), now: 0)

        // Permits gone: nil, nothing counted; queued callers keep the fast path off.
        let second = pool.acquireOpenConnection(now: 0, fill: .never)
        #expect(second?.connection === open)
        let third = pool.acquireOpenConnection(now: 0, fill: .never)
        #expect(third == nil)
        #expect(pool.inFlight == 2)
        #expect(pool.acquire(1, now: 0) == .wait)
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 1) == nil)
        #expect(pool.release(1, now: ms(1)).map(\.continuation) == [1])
        #expect(pool.inFlight == 2)

        // A closed connection is not handed out: the slow path replaces it.
        _ = pool.release(2, now: ms(2))
        open.isClosed = true
        let afterClose = pool.acquireOpenConnection(now: ms(2), fill: .never)
        #expect(afterClose == nil)
        #expect(pool.inFlight == 0)
    }

    // MARK: Close

    @Test("close hands back every waiter, connection and connect waiter, then refuses everything")
    func closeRefusesEverything() throws {
        var pool = state(connections: 2, maxInFlight: 2)
        guard case .connect(let slot) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connect")
            return
        }
        let open = FakeConnection()
        _ = pool.finishConnecting(slot: slot, result: .success(open), now: 0)
        guard case .use(let used, let fill) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connection")
            return
        }
        #expect(used === open)
        let filling = try #require(fill)
        #expect(pool.addConnectWaiter(50) == true)
        saturated(&pool, waiters: 3)

        let closed = pool.close()
        #expect(closed.waiters.map(\.continuation) == [1, 2, 3])
        #expect(closed.connectWaiters == [50])
        #expect(closed.connections.count == 1 && closed.connections.first === open)
        #expect(pool.waitingCount == 0)

        #expect(pool.acquire(1, now: ms(1)) == .refused(.closed))
        #expect(pool.enqueueWaiter(count: 1, now: ms(1), continuation: 4) == .refused(.closed))
        #expect(pool.release(1, now: ms(1)).isEmpty)
        // The attempt under way still ends: a shutdown waits for it.
        #expect(pool.addConnectWaiter(51) == true)
        guard case .fail(let error) = pool.chooseConnection(now: ms(1)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .poolClosed)
        // A connect that finishes after the close is handed back to be closed.
        let late = FakeConnection()
        let finished = pool.finishConnecting(slot: filling, result: .success(late), now: ms(2))
        #expect(finished.orphan === late)
        #expect(finished.waiters == [51])
        #expect(pool.addConnectWaiter(52) == false)  // nothing connecting any more
    }

    // MARK: Connection slots

    @Test("the least busy open connection is chosen, and a closed one's slot is refilled")
    func slotChoice() throws {
        var pool = state(connections: 3)
        var connections: [FakeConnection] = []
        for _ in 0..<3 {
            let choice = pool.chooseConnection(now: 0)
            let slot: Int
            switch choice {
            case .connect(let index): slot = index
            case .use(_, let fill?): slot = fill
            default:
                Issue.record("expected a slot to fill, got \(choice)")
                return
            }
            let connection = FakeConnection()
            connections.append(connection)
            _ = pool.finishConnecting(slot: slot, result: .success(connection), now: 0)
        }
        connections[0].inFlight = 5
        connections[1].inFlight = 1
        connections[2].inFlight = 3
        for _ in 0..<3 {
            guard case .use(let chosen, let fill) = pool.chooseConnection(now: 0) else {
                Issue.record("expected a connection")
                return
            }
            #expect(chosen === connections[1])
            #expect(fill == nil)
        }
        connections[1].isClosed = true
        guard case .use(let chosen, let fill) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connection")
            return
        }
        #expect(chosen === connections[2])
        #expect(fill == 1)
        // While that slot is connecting, no second connect starts.
        guard case .use(_, let again) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connection")
            return
        }
        #expect(again == nil)
    }

    @Test("callers during a connect wait for it and are all woken when it ends")
    func connectWaiters() {
        var pool = state(connections: 1)
        guard case .connect(let slot) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connect")
            return
        }
        guard case .wait = pool.chooseConnection(now: 0) else {
            Issue.record("expected to wait")
            return
        }
        #expect(pool.addConnectWaiter(1) == true)
        #expect(pool.addConnectWaiter(2) == true)
        let finished = pool.finishConnecting(slot: slot, result: .success(FakeConnection()), now: ms(1))
        #expect(finished.waiters == [1, 2])
        #expect(finished.orphan == nil)
        #expect(pool.addConnectWaiter(3) == false)  // nothing connecting any more
    }

    @Test("failed connects back off from reconnectMin, doubling up to reconnectMax; a success resets it")
    func reconnectBackoff() {
        var pool = state(connections: 1)  // reconnect 50 ms ... 200 ms
        let refused = RedisError(code: .connectFailed, delivery: .notSent, node: "test-node", message: "connection refused")

        func connect(at now: UInt64) -> Int? {
            if case .connect(let slot) = pool.chooseConnection(now: now) { return slot }
            return nil
        }
        func failureMessage(at now: UInt64, waited: Bool = false) -> String? {
            if case .fail(let error) = pool.chooseConnection(now: now, waitedForAttempt: waited) { return error.message }
            return nil
        }

        var now: UInt64 = 0
        for backoff: UInt64 in [50, 100, 200, 200] {
            guard let slot = connect(at: now) else {
                Issue.record("expected a connect at \(now / 1_000_000) ms")
                return
            }
            _ = pool.finishConnecting(slot: slot, result: .failure(refused), now: now)
            // The caller that waited for the attempt gets its error as it is.
            #expect(failureMessage(at: now, waited: true) == "connection refused")
            // Later callers fail at once and learn when the next attempt is.
            #expect(failureMessage(at: now + ms(backoff) - ms(10)) == "connection refused (next reconnect attempt in 10 ms)")
            now += ms(backoff)
        }
        guard let slot = connect(at: now) else {
            Issue.record("expected a connect")
            return
        }
        _ = pool.finishConnecting(slot: slot, result: .success(FakeConnection()), now: now)
        guard case .use = pool.chooseConnection(now: now) else {
            Issue.record("expected the new connection")
            return
        }
        // After a success the next failure starts from reconnectMin again.
        pool.remove(FakeConnection())  // not in the pool: no effect
        guard case .use(let connection, _) = pool.chooseConnection(now: now) else {
            Issue.record("expected a connection")
            return
        }
        pool.remove(connection)
        guard let again = connect(at: now) else {
            Issue.record("expected a connect after the removal")
            return
        }
        _ = pool.finishConnecting(slot: again, result: .failure(refused), now: now)
        #expect(failureMessage(at: now + ms(40)) == "connection refused (next reconnect attempt in 10 ms)")
        #expect(connect(at: now + ms(50)) != nil)
    }
}

@Suite("PoolState cancellation")
struct PoolStateCancellationTests {
    @Test("a cancelled waiter leaves the queue; the others keep their order; an unknown or granted one is not found")
    func cancelledWaiterLeaves() {
        var pool = state(maxInFlight: 2)
        #expect(pool.acquire(2, now: 0) == .granted)
        for id in 1...3 {
            #expect(pool.acquire(1, now: 0) == .wait)
            #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: id, id: UInt64(id)) == nil)
        }
        let cancelled = pool.cancelWaiter(id: 2, now: ms(1))
        #expect(cancelled.cancelled?.continuation == 2)
        #expect(cancelled.granted.isEmpty)
        #expect(pool.waitingPermits == 2)
        #expect(pool.cancelWaiter(id: 2, now: ms(1)).cancelled == nil)
        #expect(pool.cancelWaiter(id: 0, now: ms(1)).cancelled == nil)
        #expect(pool.release(2, now: ms(2)).map(\.continuation) == [1, 3])
        #expect(pool.cancelWaiter(id: 1, now: ms(3)).cancelled == nil)
    }

    @Test("cancelling a large batch at the head grants the smaller callers it held up")
    func cancellingTheHeadGrantsTheRest() {
        var pool = state(maxInFlight: 4)
        #expect(pool.acquire(3, now: 0) == .granted)
        #expect(pool.acquire(4, now: 0) == .wait)
        #expect(pool.enqueueWaiter(count: 4, now: 0, continuation: 1, id: 1) == nil)
        #expect(pool.acquire(1, now: 0) == .wait)
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 2, id: 2) == nil)
        let outcome = pool.cancelWaiter(id: 1, now: ms(1))
        #expect(outcome.cancelled?.continuation == 1)
        #expect(outcome.granted.map(\.continuation) == [2])
        #expect(pool.inFlight == 4)
        #expect(pool.waitingPermits == 0)
    }
}
