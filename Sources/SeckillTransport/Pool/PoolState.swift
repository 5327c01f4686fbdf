/// What the pool's bookkeeping needs to know about a connection: whether it is still usable
/// and how busy it is. ``RedisConnection`` in the pool; a stand-in in the state machine's tests.
protocol PoolConnection: AnyObject {
    var isClosed: Bool { get }
    var inFlight: Int { get }
}

extension RedisConnection: PoolConnection {}

/// The bookkeeping of a ``NodePool``: permits, waiting callers, the drain-rate estimate and
/// connection slots.
///
/// Pure state behind the pool's Mutex: every method returns what the pool must do outside
/// the lock (resume these callers, open that slot) instead of doing it, and every decision
/// that depends on time takes `now` (monotonic nanoseconds), so tests drive it with a clock
/// of their own. `Continuation` is what a waiting caller is resumed through: an
/// `UnsafeContinuation` in the pool, any value in tests.
///
/// Admission: a caller gets permits at once when nobody is queued and they fit under
/// ``PoolOptions/maxInFlight``; otherwise it queues (FIFO) for up to
/// ``PoolOptions/acquireTimeout``, unless the queue's expected wait (permits ahead of it over
/// the measured drain rate) already exceeds twice that timeout while the queue is overloaded
/// (a waiter timed out, or nearly, within the last acquire timeout), or ``PoolOptions/maxWaiting``
/// callers are queued. With no drain estimate yet, a caller is admitted.
struct PoolState<Connection: PoolConnection, Continuation> {
    /// A queued caller: a few words next to its suspended task.
    struct Waiter {
        var count: Int
        var deadline: UInt64
        var continuation: Continuation
        /// Names the waiter for ``cancelWaiter(id:now:)`` (0 when it cannot be cancelled).
        var id: UInt64 = 0
    }

    /// The waiters one release granted, in arrival order. Usually one: that one is held inline,
    /// so a release allocates nothing.
    struct Granted: RandomAccessCollection {
        private var head: Waiter?
        private var rest: [Waiter] = []

        var startIndex: Int { 0 }
        var endIndex: Int { head == nil ? 0 : 1 + rest.count }
        subscript(position: Int) -> Waiter { position == 0 ? head! : rest[position - 1] }

        mutating func append(_ waiter: Waiter) {
            if head == nil { head = waiter } else { rest.append(waiter) }
        }
    }

    /// Why a caller was refused without waiting.
    enum Refusal: Equatable {
        /// The pool was closed.
        case closed
        /// The pool is shutting down: it finishes the calls it took and takes no more.
        case shuttingDown
        /// The caller asked for more permits than the pool ever grants at once.
        case tooLarge(count: Int)
        /// ``PoolOptions/maxWaiting`` callers are already queued.
        case queueFull(waiting: Int)
        /// The queue ahead would, at the measured drain rate, take more than twice the acquire timeout.
        case expectedWait(nanoseconds: UInt64, waiting: Int, permitsPerSecond: Double)
    }

    enum Admission: Equatable {
        case granted
        case wait
        case refused(Refusal)
    }

    /// When ``chooseConnection(now:waitedForAttempt:fill:)`` fills an empty slot beside an
    /// open connection.
    enum Fill {
        /// Whenever one is empty (the attempt runs in the background).
        case always
        /// Only when the least busy open connection has commands in flight (the caller opens
        /// it and sends on it rather than queue behind them).
        case whenBusy
        /// Never.
        case never
    }

    enum Choice {
        /// Use this connection; also start filling the given empty slot.
        case use(Connection, fillSlot: Int?)
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
        case ready(Connection)
    }

    /// The drain rate is measured over windows this long (nanoseconds) while callers wait:
    /// long enough to hold many releases and ride out a scheduling hiccup, short enough to
    /// follow a node that slows down.
    static var drainWindow: UInt64 { 20_000_000 }
    /// A caller is refused early when its expected wait exceeds this many acquire timeouts.
    static var refusalFactor: UInt64 { 2 }
    /// Weight of a window that measured a faster drain than the estimate.
    static var drainSmoothingUp: Double { 0.5 }
    /// Weight of a window that measured a slower drain. Smaller than ``drainSmoothingUp``: an
    /// estimate that is briefly too high only lets callers wait (and time out, if it was wrong);
    /// one that is too low refuses callers the node would have served, and refused callers
    /// that retry at once cost the CPU the node's replies need, which keeps the measured rate
    /// low. A node that really slows down still brings the estimate down within a few windows.
    static var drainSmoothingDown: Double { 0.2 }

    let options: PoolOptions
    /// The node, for messages.
    let node: String
    private(set) var inFlight = 0
    private var waiters = RingBuffer<Waiter>(capacity: 64)
    /// Permits the queued callers ask for, in all.
    private(set) var waitingPermits = 0
    private var slots: [Slot]
    /// Callers waiting for the connect attempt under way, with their ids (0: not cancellable).
    private var connectWaiters: [(id: UInt64, continuation: Continuation)] = []
    private var closed = false
    /// Whether ``close()`` was called.
    var isClosed: Bool { closed }
    /// Set by ``beginShutdown()``: new callers are refused, queued and in-flight ones go on.
    private(set) var shuttingDown = false
    /// Callers of ``addDrainWaiter(_:)``, woken once nothing is in flight or queued.
    private var drainWaiters: [Continuation] = []
    private var nextSlot = 0
    private var retryAt: UInt64 = 0
    private var backoff: UInt64 = 0
    private var lastConnectError: RedisError?
    private let acquireTimeout: UInt64

    /// Permits released per second while callers were queued (the node's capacity, not the
    /// offered load), smoothed over windows; nil until a whole window has been measured.
    private(set) var drainRate: Double?
    /// Until when the queue counts as overloaded: a waiter timed out, or was granted after
    /// waiting most of the acquire timeout, within the last acquire timeout. Only then does
    /// the estimate refuse callers early (see ``admission(_:now:)``).
    private(set) var overloadedUntil: UInt64 = 0
    /// Start of the window being measured; nil while nobody is queued.
    private var windowStart: UInt64?
    private var windowReleased = 0
    /// A caller was refused for the queue's length during this window.
    private var windowRefused = false

    init(options: PoolOptions, node: String) {
        self.options = options
        self.node = node
        self.acquireTimeout = MonotonicClock.nanoseconds(options.acquireTimeout)
        slots = Array(repeating: .empty, count: options.connections)
    }

    /// Callers queued for permits.
    var waitingCount: Int { waiters.count }

    // MARK: Permits

    /// Grants `count` permits at once, or says the caller must queue (then call
    /// ``enqueueWaiter(count:now:continuation:)``) or is refused.
    mutating func acquire(_ count: Int, now: UInt64) -> Admission {
        let decision = admission(count, now: now)
        record(decision, count: count)
        return decision
    }

    /// The fast path of a one-command call: a permit and an open connection at once (and the
    /// empty slot to fill beside it, as ``chooseConnection(now:waitedForAttempt:fill:)``
    /// decides), or nil when the caller would have to wait, be refused or connect first:
    /// then nothing changed and the caller takes the slow path (``acquire(_:now:)``).
    mutating func acquireOpenConnection(now: UInt64, fill: Fill) -> (connection: Connection, fillSlot: Int?)? {
        guard admission(1, now: now) == .granted, hasOpenConnection,
            case .use(let connection, let fillSlot) = chooseConnection(now: now, fill: fill)
        else { return nil }
        record(.granted, count: 1)
        return (connection, fillSlot)
    }

    /// Whether a slot holds a connection that is still open.
    private var hasOpenConnection: Bool {
        slots.contains { slot in
            if case .ready(let connection) = slot { !connection.isClosed } else { false }
        }
    }

    /// Queues a caller that ``acquire(_:now:)`` told to wait, deciding afresh since the state
    /// may have changed in between. Returns nil when queued; otherwise the caller resumes the
    /// continuation itself with the returned admission.
    ///
    /// - Parameter now: When the caller arrived; its deadline is that plus the acquire timeout.
    /// - Parameter id: A caller-chosen id for ``cancelWaiter(id:now:)``; 0 for none.
    mutating func enqueueWaiter(count: Int, now: UInt64, continuation: Continuation, id: UInt64 = 0) -> Admission? {
        let decision = admission(count, now: now)
        record(decision, count: count)
        guard decision == .wait else { return decision }
        if waiters.isEmpty { openWindow(now: now) }
        waiters.append(Waiter(count: count, deadline: now &+ acquireTimeout, continuation: continuation, id: id))
        waitingPermits += count
        return nil
    }

    /// The expected wait, in nanoseconds, for `count` more permits behind the current queue;
    /// nil without a drain estimate.
    func expectedWait(for count: Int) -> UInt64? {
        guard let drainRate, drainRate > 0 else { return nil }
        let ahead = waitingPermits + inFlight + count - options.maxInFlight
        if ahead <= 0 { return 0 }
        let nanoseconds = Double(ahead) * 1e9 / drainRate
        return nanoseconds >= Double(UInt64.max / 2) ? UInt64.max / 2 : UInt64(nanoseconds)
    }

    private mutating func record(_ decision: Admission, count: Int) {
        switch decision {
        case .granted: inFlight += count
        case .refused(.expectedWait), .refused(.queueFull): windowRefused = true
        case .wait, .refused: break
        }
    }

    private func admission(_ count: Int, now: UInt64) -> Admission {
        if shuttingDown { return .refused(.shuttingDown) }
        if closed { return .refused(.closed) }
        if waiters.isEmpty && inFlight + count <= options.maxInFlight { return .granted }
        if count > options.maxInFlight { return .refused(.tooLarge(count: count)) }
        if waiters.count >= options.maxWaiting { return .refused(.queueFull(waiting: waiters.count)) }
        // The estimate refuses only while the queue has shown it is too slow: right after a
        // burst, or while refused callers retry at once and take the CPU the replies need, a
        // window can measure far less than the node serves, and refusing on that alone feeds
        // itself (more retries, slower drain, more refusals).
        // And only past twice the timeout: the estimate runs low whenever the client's own
        // CPU is short, and a caller admitted on an estimate that was too high costs one timeout,
        // while one refused on an estimate that was too low costs a refusal that need not be.
        if now < overloadedUntil, let wait = expectedWait(for: count), wait > acquireTimeout &* Self.refusalFactor {
            return .refused(.expectedWait(nanoseconds: wait, waiting: waiters.count, permitsPerSecond: drainRate ?? 0))
        }
        return .wait
    }

    /// Returns permits; the waiters that now fit, in arrival order, are granted (their permits
    /// taken) and returned for the caller to resume.
    mutating func release(_ count: Int, now: UInt64) -> Granted {
        var granted = Granted()
        inFlight -= count
        guard !waiters.isEmpty else { return granted }
        measure(released: count, now: now)
        let late = now &+ acquireTimeout / 10  // granted this close to its deadline, a waiter nearly timed out
        while let next = waiters.first, inFlight + next.count <= options.maxInFlight {
            inFlight += next.count
            waitingPermits -= next.count
            if next.deadline <= late { overloadedUntil = now &+ acquireTimeout }
            granted.append(waiters.removeFirst()!)
        }
        if waiters.isEmpty { windowStart = nil }
        return granted
    }

    /// Takes the waiter `id` out of the queue (its task was cancelled); the waiters it held up
    /// that now fit are granted. Nil when it is no longer queued (granted, expired, or closed:
    /// then whoever removed it resumes it).
    mutating func cancelWaiter(id: UInt64, now: UInt64) -> (cancelled: Waiter?, granted: Granted) {
        guard id != 0, let waiter = waiters.remove(firstWhere: { $0.id == id }) else { return (nil, Granted()) }
        waitingPermits -= waiter.count
        var granted = Granted()
        while let next = waiters.first, inFlight + next.count <= options.maxInFlight {
            inFlight += next.count
            waitingPermits -= next.count
            granted.append(waiters.removeFirst()!)
        }
        if waiters.isEmpty { windowStart = nil }
        return (waiter, granted)
    }

    /// Removes the waiters whose acquire timeout has passed, in arrival order.
    mutating func expireWaiters(now: UInt64) -> [Waiter] {
        var expired: [Waiter] = []
        // Waiters share one timeout, so they expire in arrival order.
        while let first = waiters.first, first.deadline <= now {
            waitingPermits -= first.count
            expired.append(waiters.removeFirst()!)
        }
        if !expired.isEmpty { overloadedUntil = now &+ acquireTimeout }
        if waiters.isEmpty { windowStart = nil }
        return expired
    }

    // MARK: Drain rate

    private mutating func openWindow(now: UInt64) {
        windowStart = now
        windowReleased = 0
        windowRefused = false
    }

    /// Counts permits released while callers are queued; each full window becomes a sample of
    /// the smoothed rate. Releases while nobody waits say how much was asked, not how fast the
    /// node serves, so they are not counted; windows in which callers were refused only count
    /// when they measured more than the estimate.
    private mutating func measure(released count: Int, now: UInt64) {
        guard let start = windowStart else {
            openWindow(now: now)
            return
        }
        windowReleased += count
        let elapsed = now &- start
        guard now > start, elapsed >= Self.drainWindow else { return }
        let sample = Double(windowReleased) * 1e9 / Double(elapsed)
        // While callers are refused they retry at once, and their retries take the CPU that
        // would resume the granted callers: such a window measures the refusals as much as the
        // node, so it only counts as a lower bound (it may raise the estimate, never lower it).
        // Lowering the estimate on it would refuse more, and measure lower again.
        if windowRefused, let drainRate, sample <= drainRate {
            openWindow(now: now)
            return
        }
        if let drainRate {
            let weight = sample > drainRate ? Self.drainSmoothingUp : Self.drainSmoothingDown
            self.drainRate = drainRate + weight * (sample - drainRate)
        } else {
            drainRate = sample
        }
        openWindow(now: now)
    }

    // MARK: Connections

    /// - Parameters:
    ///   - waitedForAttempt: The caller waited for a connect attempt that just ended: if it
    ///     failed, the caller gets that attempt's error as it is.
    ///   - fill: When an empty slot is to be filled beside an open connection.
    mutating func chooseConnection(now: UInt64, waitedForAttempt: Bool = false, fill: Fill = .always) -> Choice {
        if closed {
            return .fail(RedisError(code: .poolClosed, delivery: .notSent, node: node, message: "the pool was closed"))
        }
        var best: Connection?
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
            let wanted =
                switch fill {
                case .always: true
                case .whenBusy: best.inFlight > 0
                case .never: false
                }
            if wanted, let emptySlot, mayConnect, !connecting {
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
        return .fail(
            RedisError(
                code: error.code, delivery: .notSent, node: error.node, serverCode: error.serverCode,
                message: "\(error.message) (next reconnect attempt in \(waitMs) ms)"))
    }

    /// Whether a connect attempt is under way.
    var isConnecting: Bool { slots.contains { if case .connecting = $0 { true } else { false } } }

    /// Queues a caller until the connect attempt under way ends; false (not queued) when none is.
    /// Also after ``close()``: an attempt under way then still ends (its connection closed at
    /// once), and a shutdown waits for that.
    ///
    /// - Parameter id: A caller-chosen id for ``cancelConnectWaiter(id:)``; 0 for none.
    mutating func addConnectWaiter(_ continuation: Continuation, id: UInt64 = 0) -> Bool {
        guard isConnecting else { return false }
        connectWaiters.append((id, continuation))
        return true
    }

    /// Takes the connect waiter `id` out (its task was cancelled); nil when it is no longer
    /// waiting (the attempt ended and whoever ended it resumes it).
    mutating func cancelConnectWaiter(id: UInt64) -> Continuation? {
        guard id != 0, let index = connectWaiters.firstIndex(where: { $0.id == id }) else { return nil }
        return connectWaiters.remove(at: index).continuation
    }

    /// Records a connect attempt's result. Returns the callers to wake and, if the pool was
    /// closed meanwhile, the connection to close.
    mutating func finishConnecting(
        slot: Int, result: Result<Connection, RedisError>, now: UInt64
    ) -> (waiters: [Continuation], orphan: Connection?) {
        var orphan: Connection?
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
        let waiters = connectWaiters.map(\.continuation)
        connectWaiters = []
        return (waiters, orphan)
    }

    /// Marks an empty slot as connecting and returns it, when the backoff allows an attempt and
    /// none is under way; nil otherwise. For opening every slot at once (``NodePool/warmUp()``).
    mutating func reserveEmptySlot(now: UInt64) -> Int? {
        guard !closed, !shuttingDown, now >= retryAt, !isConnecting else { return nil }
        for index in slots.indices {
            switch slots[index] {
            case .empty:
                slots[index] = .connecting
                return index
            case .ready(let connection) where connection.isClosed:
                slots[index] = .connecting
                return index
            case .ready, .connecting:
                continue
            }
        }
        return nil
    }

    /// Gives back a slot whose connect attempt was cancelled (its owner's `run()` ended, or the
    /// caller connecting inline was cancelled): no backoff, nothing learned about the node.
    /// Returns the callers to wake; one of them connects again.
    mutating func abandonConnecting(slot: Int) -> [Continuation] {
        slots[slot] = .empty
        let waiters = connectWaiters.map(\.continuation)
        connectWaiters = []
        return waiters
    }

    mutating func remove(_ connection: Connection) {
        for index in slots.indices {
            if case .ready(let existing) = slots[index], existing === connection {
                slots[index] = .empty
            }
        }
    }

    // MARK: Shutdown

    /// Whether nothing is in flight or queued.
    var isDrained: Bool { inFlight == 0 && waiters.isEmpty }

    /// Starts a shutdown: new callers are refused (``Refusal/shuttingDown``) while the queued
    /// and in-flight ones finish.
    mutating func beginShutdown() {
        shuttingDown = true
    }

    /// Queues a caller until nothing is in flight or queued; false (not queued) when that is
    /// already so or the pool is closed.
    mutating func addDrainWaiter(_ continuation: Continuation) -> Bool {
        guard !isDrained, !closed else { return false }
        drainWaiters.append(continuation)
        return true
    }

    /// The drain waiters to wake, once the pool is drained (none before).
    mutating func takeDrainWaitersIfDrained() -> [Continuation] {
        guard isDrained, !drainWaiters.isEmpty else { return [] }
        defer { drainWaiters = [] }
        return drainWaiters
    }

    /// Closes the pool: later calls are refused. Returns the open connections to close, the
    /// queued callers to fail and the callers waiting for a connect or a drain to wake. A
    /// connect attempt under way keeps its slot until it ends (``finishConnecting(slot:result:now:)``
    /// then hands its connection back to be closed).
    mutating func close() -> (connections: [Connection], waiters: [Waiter], connectWaiters: [Continuation]) {
        closed = true
        var connections: [Connection] = []
        for index in slots.indices {
            if case .ready(let connection) = slots[index] {
                connections.append(connection)
                slots[index] = .empty
            }
        }
        let pendingWaiters = waiters.removeAll()
        waitingPermits = 0
        windowStart = nil
        let pendingConnects = connectWaiters.map(\.continuation) + drainWaiters
        connectWaiters = []
        drainWaiters = []
        return (connections, pendingWaiters, pendingConnects)
    }
}
