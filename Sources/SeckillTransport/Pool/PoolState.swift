/// The bookkeeping of a ``NodePool``: permits, waiting callers and connection slots.
///
/// Pure state behind the pool's Mutex: every method returns what the pool must do outside
/// the lock (resume these callers, open that slot) instead of doing it.
struct PoolState {
    struct Waiter {
        var count: Int
        var deadline: UInt64
        var continuation: UnsafeContinuation<Void, any Error>
    }

    enum Refusal { case closed, overloaded, tooManyWaiting }

    enum Admission { case granted, wait, refused(Refusal) }

    enum Choice {
        /// Use this connection; also start filling the given empty slot.
        case use(RedisConnection, fillSlot: Int?)
        /// Nothing is open: connect the slot and wait.
        case connect(slot: Int)
        /// A connect is under way: wait for it.
        case wait
        /// The node is unreachable and the backoff has not run out.
        case fail(RedisError)
    }

    private enum Slot {
        case empty
        case connecting
        case ready(RedisConnection)
    }

    let options: PoolOptions
    /// The node, for messages.
    let node: String
    private(set) var inFlight = 0
    private var waiters = RingBuffer<Waiter>(capacity: 64)
    private var slots: [Slot]
    private var connectWaiters: [UnsafeContinuation<Void, Never>] = []
    private var closed = false
    private var nextSlot = 0
    private var retryAt: UInt64 = 0
    private var backoff: UInt64 = 0
    private var lastConnectError: RedisError?

    init(options: PoolOptions, node: String) {
        self.options = options
        self.node = node
        slots = Array(repeating: .empty, count: options.connections)
    }

    // MARK: Permits

    mutating func acquire(_ count: Int, now: UInt64) -> Admission {
        if closed { return .refused(.closed) }
        if waiters.isEmpty && inFlight + count <= options.maxInFlight {
            inFlight += count
            return .granted
        }
        if count > options.maxInFlight { return .refused(.overloaded) }
        if waiters.count >= options.maxWaiting { return .refused(.tooManyWaiting) }
        return .wait
    }

    /// Queues a waiter, unless the situation changed since ``acquire(_:now:)`` (then the
    /// caller resumes it with the returned admission).
    mutating func enqueueWaiter(_ waiter: Waiter) -> Admission? {
        if closed { return .refused(.closed) }
        if waiters.isEmpty && inFlight + waiter.count <= options.maxInFlight {
            inFlight += waiter.count
            return .granted
        }
        if waiters.count >= options.maxWaiting { return .refused(.tooManyWaiting) }
        waiters.append(waiter)
        return nil
    }

    /// Returns permits; the waiters that now fit, in arrival order, are granted.
    mutating func release(_ count: Int) -> [Waiter] {
        inFlight -= count
        guard let first = waiters.first, inFlight + first.count <= options.maxInFlight else { return [] }
        var granted: [Waiter] = []
        while let next = waiters.first, inFlight + next.count <= options.maxInFlight {
            inFlight += next.count
            granted.append(waiters.removeFirst()!)
        }
        return granted
    }

    /// Removes the waiters whose acquire timeout has passed.
    mutating func expireWaiters(now: UInt64) -> [Waiter] {
        var expired: [Waiter] = []
        // Waiters share one timeout, so they expire in arrival order.
        while let first = waiters.first, first.deadline <= now {
            expired.append(waiters.removeFirst()!)
        }
        return expired
    }

    // MARK: Connections

    /// - Parameter waitedForAttempt: The caller waited for a connect attempt that just ended:
    ///   if it failed, the caller gets that attempt's error as it is.
    mutating func chooseConnection(now: UInt64, waitedForAttempt: Bool = false) -> Choice {
        if closed {
            return .fail(RedisError(code: .poolClosed, delivery: .notSent, node: node, message: "the pool was closed"))
        }
        var best: RedisConnection?
        var emptySlot: Int?
        var connecting = false
        let count = slots.count
        for offset in 0..<count {
            let index = (nextSlot + offset) % count
            switch slots[index] {
            case .ready(let connection):
                if connection.isClosed {
                    slots[index] = .empty
                    if emptySlot == nil { emptySlot = index }
                } else if best == nil || connection.inFlight < best!.inFlight {
                    best = connection
                }
            case .connecting:
                connecting = true
            case .empty:
                if emptySlot == nil { emptySlot = index }
            }
        }
        nextSlot = (nextSlot + 1) % count
        let mayConnect = now >= retryAt
        if let best {
            if let emptySlot, mayConnect, !connecting {
                slots[emptySlot] = .connecting
                return .use(best, fillSlot: emptySlot)
            }
            return .use(best, fillSlot: nil)
        }
        if connecting { return .wait }
        if let emptySlot, mayConnect {
            slots[emptySlot] = .connecting
            return .connect(slot: emptySlot)
        }
        let error = lastConnectError ?? RedisError(code: .connectFailed, delivery: .notSent, node: node, message: "not connected")
        if waitedForAttempt, lastConnectError != nil { return .fail(error) }
        // Later callers also learn when the next attempt will be made.
        let waitMs = (retryAt > now ? retryAt - now : 0) / 1_000_000
        return .fail(RedisError(
            code: error.code, delivery: .notSent, node: error.node, serverCode: error.serverCode,
            message: "\(error.message) (next reconnect attempt in \(waitMs) ms)"))
    }

    mutating func addConnectWaiter(_ continuation: UnsafeContinuation<Void, Never>) -> Bool {
        let connecting = slots.contains { if case .connecting = $0 { true } else { false } }
        guard connecting, !closed else { return false }
        connectWaiters.append(continuation)
        return true
    }

    /// Records a connect attempt's result. Returns the callers to wake and, if the pool was
    /// closed meanwhile, the connection to close.
    mutating func finishConnecting(
        slot: Int, result: Result<RedisConnection, RedisError>, now: UInt64
    ) -> (waiters: [UnsafeContinuation<Void, Never>], orphan: RedisConnection?) {
        var orphan: RedisConnection?
        switch result {
        case .success(let connection):
            if closed {
                orphan = connection
                slots[slot] = .empty
            } else {
                slots[slot] = .ready(connection)
            }
            backoff = 0
            retryAt = 0
            lastConnectError = nil
        case .failure(let error):
            slots[slot] = .empty
            let minimum = MonotonicClock.nanoseconds(options.reconnectMin)
            let maximum = MonotonicClock.nanoseconds(options.reconnectMax)
            backoff = backoff == 0 ? minimum : min(backoff * 2, maximum)
            retryAt = now &+ backoff
            lastConnectError = error
        }
        let waiters = connectWaiters
        connectWaiters = []
        return (waiters, orphan)
    }

    mutating func remove(_ connection: RedisConnection) {
        for index in slots.indices {
            if case .ready(let existing) = slots[index], existing === connection {
                slots[index] = .empty
            }
        }
    }

    mutating func close() -> ([RedisConnection], [Waiter], [UnsafeContinuation<Void, Never>]) {
        closed = true
        var connections: [RedisConnection] = []
        for index in slots.indices {
            if case .ready(let connection) = slots[index] { connections.append(connection) }
            slots[index] = .empty
        }
        let pendingWaiters = waiters.removeAll()
        let pendingConnects = connectWaiters
        connectWaiters = []
        return (connections, pendingWaiters, pendingConnects)
    }
}
