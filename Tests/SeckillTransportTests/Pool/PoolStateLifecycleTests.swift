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

private func state(connections: Int = 1, maxInFlight: Int = 4) -> State {
    State(
        options: PoolOptions(
            connections: connections, maxInFlight: maxInFlight, acquireTimeout: .milliseconds(500),
            reconnectMin: .milliseconds(50), reconnectMax: .milliseconds(200)),
        node: "test-node")
}

/// Shutdown, abandoned connect attempts and who fills empty slots: the pool's lifecycle
/// decisions, driven directly (injected clock, no sockets, no sleeps).
@Suite("PoolState lifecycle")
struct PoolStateLifecycleTests {
    @Test("a shutdown refuses new callers, lets the queued and in-flight ones finish, and wakes its waiter when the last permit returns")
    func shutdownDrains() {
        var pool = state(maxInFlight: 2)
        #expect(pool.acquire(1, now: 0) == .granted)
        #expect(pool.acquire(1, now: 0) == .granted)
        #expect(pool.acquire(1, now: 0) == .wait)
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 1) == nil)

        pool.beginShutdown()
        #expect(pool.acquire(1, now: 0) == .refused(.shuttingDown))
        #expect(pool.enqueueWaiter(count: 1, now: 0, continuation: 2) == .refused(.shuttingDown))
        #expect(pool.addDrainWaiter(99) == true)
        #expect(pool.takeDrainWaitersIfDrained().isEmpty)

        // The queued caller was taken before the shutdown: it still gets its permit.
        #expect(pool.release(1, now: ms(1)).map(\.continuation) == [1])
        #expect(pool.takeDrainWaitersIfDrained().isEmpty)
        _ = pool.release(1, now: ms(2))
        #expect(pool.takeDrainWaitersIfDrained().isEmpty)
        _ = pool.release(1, now: ms(3))
        #expect(pool.isDrained)
        #expect(pool.takeDrainWaitersIfDrained() == [99])
        #expect(pool.addDrainWaiter(100) == false)  // already drained

        // Closed afterwards, it still says why it refuses.
        _ = pool.close()
        #expect(pool.acquire(1, now: ms(4)) == .refused(.shuttingDown))
    }

    @Test("closing a pool whose shutdown timed out wakes the drain waiter with the others")
    func closeWakesDrainWaiter() {
        var pool = state()
        #expect(pool.acquire(1, now: 0) == .granted)
        pool.beginShutdown()
        #expect(pool.addDrainWaiter(7) == true)
        let closed = pool.close()
        #expect(closed.connectWaiters == [7])
        #expect(pool.addDrainWaiter(8) == false)
    }

    @Test("an abandoned connect attempt gives its slot back with no backoff and no error: the next caller connects at once")
    func abandonedConnect() {
        var pool = state()
        guard case .connect(let slot) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connect")
            return
        }
        #expect(pool.addConnectWaiter(5) == true)
        #expect(pool.isConnecting == true)
        #expect(pool.abandonConnecting(slot: slot) == [5])
        #expect(pool.isConnecting == false)
        guard case .connect(let again) = pool.chooseConnection(now: 0, waitedForAttempt: true) else {
            Issue.record("expected another connect at once")
            return
        }
        #expect(again == slot)
    }

    @Test("a cancelled connect waiter is taken out and resumed by its canceller; the others still wait for the attempt")
    func cancelledConnectWaiter() {
        var pool = state()
        guard case .connect(let slot) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connect")
            return
        }
        #expect(pool.addConnectWaiter(1, id: 11) == true)
        #expect(pool.addConnectWaiter(2, id: 12) == true)
        #expect(pool.cancelConnectWaiter(id: 11) == 1)
        #expect(pool.cancelConnectWaiter(id: 11) == nil)  // already out
        #expect(pool.cancelConnectWaiter(id: 0) == nil)  // 0 names nobody
        let finished = pool.finishConnecting(slot: slot, result: .success(FakeConnection()), now: 0)
        #expect(finished.waiters == [2])
        #expect(pool.cancelConnectWaiter(id: 12) == nil)  // resumed by the attempt's end
    }

    @Test("an empty slot beside an open connection is filled always, only when that connection is busy, or never, as asked")
    func fillPolicies() {
        var pool = state(connections: 2)
        guard case .connect(let first) = pool.chooseConnection(now: 0) else {
            Issue.record("expected a connect")
            return
        }
        let open = FakeConnection()
        _ = pool.finishConnecting(slot: first, result: .success(open), now: 0)

        guard case .use(let used, nil) = pool.chooseConnection(now: 0, fill: .never) else {
            Issue.record("never: expected the open connection and no fill")
            return
        }
        #expect(used === open)
        guard case .use(_, nil) = pool.chooseConnection(now: 0, fill: .whenBusy) else {
            Issue.record("whenBusy, idle: expected no fill")
            return
        }
        open.inFlight = 1
        guard case .use(_, let busyFill?) = pool.chooseConnection(now: 0, fill: .whenBusy) else {
            Issue.record("whenBusy, busy: expected a fill")
            return
        }
        #expect(busyFill != first)
        _ = pool.abandonConnecting(slot: busyFill)
        open.inFlight = 0
        guard case .use(_, let alwaysFill?) = pool.chooseConnection(now: 0, fill: .always) else {
            Issue.record("always: expected a fill")
            return
        }
        #expect(alwaysFill == busyFill)
    }

    @Test("warm-up reserves one empty slot at a time, none while an attempt is under way, in backoff or once closed")
    func reserveEmptySlots() {
        var pool = state(connections: 2)
        let first = pool.reserveEmptySlot(now: 0)
        #expect(first != nil)
        #expect(pool.reserveEmptySlot(now: 0) == nil)  // one attempt at a time
        _ = pool.finishConnecting(slot: first!, result: .success(FakeConnection()), now: 0)
        let second = pool.reserveEmptySlot(now: 0)
        #expect(second != nil && second != first)
        let refused = RedisError(code: .connectFailed, delivery: .notSent, node: "test-node", message: "connection refused")
        _ = pool.finishConnecting(slot: second!, result: .failure(refused), now: 0)
        #expect(pool.reserveEmptySlot(now: ms(10)) == nil)  // backing off 50 ms
        #expect(pool.reserveEmptySlot(now: ms(60)) == second)
        _ = pool.abandonConnecting(slot: second!)
        _ = pool.close()
        #expect(pool.reserveEmptySlot(now: ms(100)) == nil)
    }
}
