public import SeckillRESP
import Synchronization

/// The connections to one Redis node, shared by every caller of that node.
///
/// Commands are spread over a few multiplexed connections (``PoolOptions/connections``); at
/// most ``PoolOptions/maxInFlight`` commands are outstanding at once.
///
/// Admission is by time, not by count: a caller beyond the in-flight bound queues (first come,
/// first served) and waits up to ``PoolOptions/acquireTimeout``, then fails with
/// ``RedisError/Code/overloaded``. It is refused at once, also `overloaded` and not sent, only
/// when the wait it faces is already expected to exceed twice that timeout (the permits queued
/// ahead of it divided by the node's drain rate, measured while callers wait as a smoothed rate
/// of permits released per second), and only while the queue has shown it is too slow: a
/// waiter timed out, or nearly, within the last acquire timeout. Until the rate has been
/// measured, callers are admitted. The factor of two and the overload condition keep a low
/// estimate (the client's own CPU short, refused callers retrying at once) from refusing
/// callers the node would have served in time.
/// ``PoolOptions/maxWaiting`` caps the queue as a memory bound. A waiting caller costs its
/// suspended task and a small entry in the queue.
///
/// A broken connection is replaced on the next call; while the
/// node cannot be reached, calls fail at once with `connectFailed` and reconnect attempts back
/// off from ``PoolOptions/reconnectMin`` to ``PoolOptions/reconnectMax``. Nothing a pool does
/// waits on another node.
///
/// Connect attempts run as child tasks of ``run()`` (or of the run of whoever owns the pool's
/// ``work`` queue, e.g. a cluster client) while one is running; without one, the caller that
/// needs the connection opens it itself (see ``run()``). ``shutdown(timeout:)`` lets the calls
/// taken finish, then closes every connection; ``close()`` closes at once.
public final class NodePool: Sendable {
    /// The node this pool talks to.
    public let endpoint: RedisEndpoint
    /// How connections are opened.
    public let connectionOptions: ConnectionOptions
    /// Sizes and limits.
    public let poolOptions: PoolOptions
    /// Where connects, lost connections and overload are logged.
    public let logger: SeckillLogger
    /// Where the pool hands its connect attempts; run by ``run()`` or by the owner that gave it.
    public let work: WorkQueue
    /// Whether ``work`` is the pool's own (``shutdown(timeout:)`` and ``close()`` end it) rather
    /// than an owner's.
    let ownsWork: Bool

    /// A waiting caller is resumed through its continuation: with success when it is granted
    /// permits (or, waiting for a connect, when the attempt ends), with an error when refused.
    typealias State = PoolState<RedisConnection, UnsafeContinuation<Void, any Error>>

    let loop: EventLoop
    let state: Mutex<State>
    private let ticker: PoolTicker
    private let lostConnections = Atomic<Int>(0)
    /// Ids of waiting callers, for cancellation (0 is never used).
    private let waiterIDs = Atomic<UInt64>(0)
    private let reopened = Atomic<Int>(0)
    /// When `overloaded` was last logged (monotonic ns): at most one such line a second.
    private let overloadLoggedAt = Atomic<UInt64>(0)
    /// Set by ``shutdown(timeout:)``: releases then check whether the pool has drained.
    let draining = Atomic<Bool>(false)

    /// Creates a pool. No connection is made until the first command (or ``warmUp()``).
    ///
    /// - Parameters:
    ///   - logger: Where connects, lost connections and overload are logged.
    ///   - work: The queue of an owner whose `run()` runs the pool's connect attempts (a
    ///     cluster client shares one among its pools); nil for a queue of the pool's own, run
    ///     by ``run()``.
    public init(
        endpoint: RedisEndpoint, connection: ConnectionOptions = .init(), pool: PoolOptions = .init(), logger: SeckillLogger = .disabled,
        work: WorkQueue? = nil
    ) {
        self.endpoint = endpoint
        self.connectionOptions = connection
        self.poolOptions = pool
        self.logger = logger
        self.work = work ?? WorkQueue()
        self.ownsWork = work == nil
        self.loop = EventLoop.shared
        let state = Mutex(State(options: pool, node: endpoint.description))
        self.state = state
        self.ticker = PoolTicker(endpoint: endpoint)
        ticker.attach(self)
        loop.addTickable(ticker)
    }

    deinit {
        close()
    }

    /// The executor of the thread that does every pool's socket I/O.
    ///
    /// A task that prefers it (`withTaskExecutorPreference(NodePool.ioExecutor) { ... }`, or
    /// `group.addTask(executorPreference: NodePool.ioExecutor)`) runs on that thread: each
    /// reply resumes its caller in place instead of waking a thread of the global pool, which
    /// roughly halves the client CPU of a call. Give it only short, non-blocking work (a
    /// caller's loop of commands); anything that blocks it delays every connection's I/O.
    public static var ioExecutor: any TaskExecutor { EventLoop.shared }

    /// Whether the caller runs on the I/O thread (for tests).
    package static var onIOThread: Bool { EventLoop.shared.inLoopThread }

    // MARK: Commands

    /// Sends one command and returns its reply.
    ///
    /// - Throws: ``RedisError``: `serverError` for an error reply (with ``RedisError/serverCode``),
    ///   or a transport failure whose ``RedisError/delivery`` says whether it may have run.
    public func send(_ command: RESPCommand) async throws -> RESPValue {
        let reply = try await request(command)
        if let message = reply.errorMessage { throw RedisError.server(message, node: endpoint.description) }
        return reply
    }

    /// Sends one command and returns its reply, error replies included (as
    /// ``RESPValue/error(_:)``), for callers that inspect them (redirects).
    ///
    /// - Parameters:
    ///   - command: The command.
    ///   - limit: The time the caller has left: the reply is awaited for the smaller of it and
    ///     the command timeout. Nil waits the command timeout.
    /// - Throws: ``RedisError`` for a transport failure.
    public func request(_ command: RESPCommand, within limit: Duration? = nil) async throws -> RESPValue {
        try await request(command, appending: [], within: limit)
    }

    /// ``request(_:within:)`` for `command` completed by `arguments`: a prepared prefix (a
    /// script's `EVALSHA sha numkeys keys...`) and a call's own arguments, encoded straight into
    /// the connection's output without building a command of the call's own.
    ///
    /// The common case (a permit free, a connection open) takes one lock and suspends once,
    /// for the reply; a caller that must queue or connect first takes the general path.
    public func request(_ command: RESPCommand, appending arguments: [String], within limit: Duration? = nil) async throws -> RESPValue {
        try await request(command, appending: arguments, within: limit, startedAt: MonotonicClock.now())
    }

    /// ``request(_:appending:within:)`` for a caller that has read ``MonotonicClock`` when it
    /// started the call (`now`): it spares a clock read on the hot path.
    package func request(
        _ command: RESPCommand, appending arguments: [String], within limit: Duration?, startedAt now: UInt64
    ) async throws -> RESPValue {
        let running = work.isRunning
        if let (connection, fillSlot) = state.withLock({ $0.acquireOpenConnection(now: now, fill: running ? .always : .whenBusy) }) {
            return try await request(
                command, appending: arguments, on: connection, filling: fillSlot, running: running, within: limit, startedAt: now)
        }
        return try await requestQueued(command, appending: arguments, within: limit)
    }

    /// The common case of ``request(_:appending:within:startedAt:)``: a permit taken and an open
    /// connection chosen. Out of line, so that a caller queued for a permit (most callers of a
    /// crowd) does not keep this path's frame as well.
    @inline(never)
    private func request(
        _ command: RESPCommand, appending arguments: [String], on connection: RedisConnection, filling fillSlot: Int?, running: Bool,
        within limit: Duration?, startedAt now: UInt64
    ) async throws -> RESPValue {
        // Without run() the caller opens the slot itself: its connection is busy, and the
        // calls after it will have the new one.
        if let fillSlot { _ = await openBeside(slot: fillSlot, policy: running ? .always : .whenBusy) }
        let deadline = now &+ MonotonicClock.nanoseconds(attemptTimeout(within: limit))
        let reply: RESPValue
        do {
            reply = try await connection.send(command, appending: arguments, deadline: deadline)
        } catch let error as RedisError where error.code == .connectionClosed && RetryPolicy.shared.mayResend(error, idempotent: false) {
            // The connection died between being chosen and taking the command: nothing was
            // sent, so the general path may send it on another.
            release(1)
            return try await requestQueued(command, appending: arguments, within: limit)
        } catch {
            release(1)
            throw error
        }
        release(1)
        return reply
    }

    /// The general path of ``request(_:appending:within:)``: a caller that waits for a permit
    /// or a connection. Kept out of line: a waiting caller's suspended frames are most of what
    /// it costs in memory, and the fast path's frame need not hold this path's state.
    @inline(never)
    private func requestQueued(_ command: RESPCommand, appending arguments: [String], within limit: Duration?) async throws -> RESPValue {
        try await withPermits(1, within: limit) { connection, deadline in
            try await connection.send(command, appending: arguments, deadline: deadline)
        }
    }

    /// Opens the empty `slot` that ``PoolState/chooseConnection(now:waitedForAttempt:fill:)``
    /// handed out beside a connection: in ``work`` while someone runs it; otherwise, with
    /// `policy` ``PoolState/Fill/always`` (run() ended in between), the slot waits for the
    /// next caller that needs it, and with any other policy the caller opens it now.
    ///
    /// - Returns: Whether the caller opened it itself.
    private func openBeside(slot: Int, policy: State.Fill) async -> Bool {
        if work.submit({ [self] in await establish(slot: slot) }) { return false }
        if policy == .always {
            let waiters = state.withLock { $0.abandonConnecting(slot: slot) }
            for waiter in waiters { waiter.resume() }
            return false
        }
        await establish(slot: slot)
        return true
    }

    /// How long one attempt waits for its reply: the smaller of the command timeout and the
    /// caller's time left (at least a millisecond, so an exhausted budget still fails as a
    /// timeout, not a hang).
    private func attemptTimeout(within limit: Duration?) -> Duration {
        limit.map { max(.milliseconds(1), min($0, connectionOptions.commandTimeout)) } ?? connectionOptions.commandTimeout
    }

    /// Sends `commands` in one write on one connection and returns their replies in order.
    /// Error replies are returned as values (use ``RESPValue/errorMessage``), since some
    /// commands of a batch may succeed while others fail.
    ///
    /// - Parameters:
    ///   - commands: The commands, sent in one write.
    ///   - limit: The time the caller has left: the replies are awaited for the smaller of it
    ///     and the command timeout. Nil waits the command timeout.
    /// - Throws: ``RedisError`` for a transport failure, which applies to the whole batch.
    public func pipeline(_ commands: [RESPCommand], within limit: Duration? = nil) async throws -> [RESPValue] {
        if commands.isEmpty { return [] }
        return try await withPermits(commands.count, within: limit) { connection, deadline in
            try await connection.send(commands, deadline: deadline)
        }
    }

    /// Opens the pool's connections now instead of on first use: all of them, in the calling
    /// task, until one fails (the pool then goes on with those it has).
    ///
    /// - Throws: the connect error when no connection could be opened.
    public func warmUp() async throws {
        _ = try await connection()
        while let slot = state.withLock({ $0.reserveEmptySlot(now: MonotonicClock.now()) }) {
            await establish(slot: slot)
        }
    }

    /// Commands currently in flight on this node.
    public var inFlight: Int { state.withLock { $0.inFlight } }

    /// Callers queued for a permit.
    package var waiting: Int { state.withLock { $0.waitingCount } }

    /// Whether ``shutdown(timeout:)`` or ``close()`` was called: new calls are refused.
    package var isShuttingDown: Bool { state.withLock { $0.shuttingDown || $0.isClosed } }

    /// Connections opened again after one of this pool's connections was lost.
    public var reconnects: Int { reopened.load(ordering: .relaxed) }

    private func withPermits<T>(
        _ count: Int, within limit: Duration?, _ body: (RedisConnection, UInt64) async throws -> T
    ) async throws -> T {
        try await acquire(count)
        defer { release(count) }
        let timeout = attemptTimeout(within: limit)
        var attempts = 0
        while true {
            let connection = try await connection()
            let deadline = MonotonicClock.deadline(after: timeout)
            do {
                return try await body(connection, deadline)
            } catch let error as RedisError
                where error.code == .connectionClosed && RetryPolicy.shared.mayResend(error, idempotent: false) && attempts < 2
            {
                // The connection died between being chosen and taking the command: nothing
                // was sent (the policy allows it), so another connection may take it at once.
                attempts += 1
            }
        }
    }

    // MARK: In-flight permits

    private func acquire(_ count: Int) async throws {
        guard let now = try admit(count) else { return }
        // A cancelled waiter leaves the queue at once and fails with `cancelled` (nothing
        // was sent); one granted or refused first keeps that outcome.
        let id = waiterIDs.add(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                enqueueWaiter(continuation, count: count, now: now, id: id)
            }
        } onCancel: {
            cancelWaiter(id: id)
        }
    }

    /// The admission decision for `count` permits: nil when granted, the arrival time when the
    /// caller must wait. Out of line, like ``enqueueWaiter(_:count:now:id:)``.
    ///
    /// - Throws: ``RedisError`` `overloaded` or `poolClosed` when refused.
    @inline(never)
    private func admit(_ count: Int) throws(RedisError) -> UInt64? {
        let now = MonotonicClock.now()
        switch state.withLock({ $0.acquire(count, now: now) }) {
        case .granted: return nil
        case .refused(let reason): throw refusal(reason)
        case .wait: return now
        }
    }

    /// Queues a caller that must wait for permits, or answers it at once when the state
    /// changed since it was told to wait. Out of line: its locals stay on the thread's stack
    /// instead of in the frames a waiting caller keeps.
    @inline(never)
    private func enqueueWaiter(_ continuation: UnsafeContinuation<Void, any Error>, count: Int, now: UInt64, id: UInt64) {
        let immediate = state.withLock { $0.enqueueWaiter(count: count, now: now, continuation: continuation, id: id) }
        switch immediate {
        case nil, .wait?:
            // Cancelled before it queued: the handler found nothing to remove.
            if Task.isCancelled { cancelWaiter(id: id) }
        case .granted?: continuation.resume()
        case .refused(let reason)?: continuation.resume(throwing: refusal(reason))
        }
    }

    private func cancelWaiter(id: UInt64) {
        let now = MonotonicClock.now()
        let outcome = state.withLock { $0.cancelWaiter(id: id, now: now) }
        for waiter in outcome.granted { waiter.continuation.resume() }
        if draining.load(ordering: .relaxed) { wakeDrainWaiters() }
        outcome.cancelled?.continuation.resume(
            throwing: RedisError(
                code: .cancelled, delivery: .notSent, node: endpoint.description,
                message: "the calling task was cancelled while waiting for a free slot"))
    }

    private func release(_ count: Int) {
        // The time matters only to waiters (the drain rate): read the clock only for them.
        let granted = state.withLock { state in
            let now = state.waitingCount > 0 ? MonotonicClock.now() : 0
            return state.release(count, now: now)
        }
        for waiter in granted { waiter.continuation.resume() }
        if draining.load(ordering: .relaxed) { wakeDrainWaiters() }
    }

    fileprivate func expireWaiters(now: UInt64) {
        let expired = state.withLock { $0.expireWaiters(now: now) }
        if expired.isEmpty { return }
        if draining.load(ordering: .relaxed) { wakeDrainWaiters() }
        let error = RedisError(
            code: .overloaded, delivery: .notSent, node: endpoint.description,
            message:
                "\(poolOptions.maxInFlight) commands in flight and no slot freed within \(Self.milliseconds(poolOptions.acquireTimeout)) ms (the acquire timeout)"
        )
        logOverload(error)
        for waiter in expired { waiter.continuation.resume(throwing: error) }
    }

    /// Logs an `overloaded` refusal, at most once a second per pool.
    private func logOverload(_ error: RedisError) {
        guard logger.isEnabled(.warning) else { return }
        let now = MonotonicClock.now()
        let last = overloadLoggedAt.load(ordering: .relaxed)
        guard now &- last >= 1_000_000_000 || last == 0,
            overloadLoggedAt.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
        else { return }
        logger.log(.warning, "node overloaded: callers refused", ["node": endpoint.description, "reason": error.message])
    }

    private func refusal(_ reason: State.Refusal) -> RedisError {
        let message: String
        switch reason {
        case .closed:
            return RedisError(code: .poolClosed, delivery: .notSent, node: endpoint.description, message: "the pool was closed")
        case .shuttingDown:
            return RedisError(
                code: .poolClosed, delivery: .notSent, node: endpoint.description,
                message: "the pool is shut down (shutdown() was called): it takes no new commands")
        case .tooLarge(let count):
            message = "a batch of \(count) commands is more than the \(poolOptions.maxInFlight) allowed in flight at once"
        case .queueFull(let waiting):
            message = "\(poolOptions.maxInFlight) commands in flight and \(waiting) callers already waiting (the most allowed)"
        case .expectedWait(let nanoseconds, let waiting, let rate):
            message =
                "\(poolOptions.maxInFlight) commands in flight and \(waiting) callers waiting: expected wait \((nanoseconds + 999_999) / 1_000_000) ms"
                + " (draining ~\(Int(rate.rounded()))/s) is more than twice the acquire timeout of \(Self.milliseconds(poolOptions.acquireTimeout)) ms"
        }
        let error = RedisError(code: .overloaded, delivery: .notSent, node: endpoint.description, message: message)
        logOverload(error)
        return error
    }

    static func milliseconds(_ duration: Duration) -> UInt64 {
        MonotonicClock.nanoseconds(duration) / 1_000_000
    }

    // MARK: Connections

    private func connection() async throws -> RedisConnection {
        var waited = false
        var opened = false
        while true {
            let now = MonotonicClock.now()
            // With run() the empty slots are filled there. Without, a caller opens one
            // connection at most, and only one it needs: none is open, or every open one has
            // commands in flight (it sends on the new one rather than queue behind them). A
            // caller with an idle connection never waits for another to open.
            let fill: State.Fill = work.isRunning ? .always : opened ? .never : .whenBusy
            let decision = state.withLock { $0.chooseConnection(now: now, waitedForAttempt: waited, fill: fill) }
            switch decision {
            case .use(let connection, let fillSlot):
                guard let fillSlot, await openBeside(slot: fillSlot, policy: fill) else { return connection }
                opened = true
                continue
            case .connect(let slot):
                if work.submit({ [self] in await establish(slot: slot) }) {
                    try await waitForConnectAttempt()
                } else {
                    // No run(): the caller that needs the connection opens it.
                    await establish(slot: slot)
                    opened = true
                }
                waited = true
            case .wait:
                try await waitForConnectAttempt()
                waited = true
            case .fail(let error):
                throw error
            }
            if Task.isCancelled {
                throw RedisError(
                    code: .cancelled, delivery: .notSent, node: endpoint.description,
                    message: "the calling task was cancelled while waiting for a connection")
            }
        }
    }

    /// Waits until the connect attempt under way ends, or the task is cancelled (the caller
    /// then checks for that). Never throws: connect waiters are only resumed with success (the
    /// throwing continuation is the type the state machine queues).
    func waitForConnectAttempt() async throws {
        let id = waiterIDs.add(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let registered = state.withLock { $0.addConnectWaiter(continuation, id: id) }
                if !registered {
                    continuation.resume()
                } else if Task.isCancelled {
                    // Cancelled before it queued: the handler found nothing to take out.
                    state.withLock { $0.cancelConnectWaiter(id: id) }?.resume()
                }
            }
        } onCancel: {
            state.withLock { $0.cancelConnectWaiter(id: id) }?.resume()
        }
    }

    private func establish(slot: Int) async {
        let result: Result<RedisConnection, RedisError>
        do {
            // The close callback goes in with the connection, before the loop can run it.
            let connection = try await RedisConnection.connect(
                to: endpoint, options: connectionOptions, loop: loop,
                onClose: { [weak self] closed in self?.connectionClosed(closed) })
            result = .success(connection)
        } catch let error as RedisError {
            result = .failure(error)
        } catch {
            result = .failure(RedisError(code: .connectFailed, delivery: .notSent, node: endpoint.description, message: "\(error)"))
        }
        if case .failure = result, Task.isCancelled {
            // Cancelled, not refused by the node: the slot is given back with no backoff, and a
            // caller still waiting connects again itself.
            let waiters = state.withLock { $0.abandonConnecting(slot: slot) }
            for waiter in waiters { waiter.resume() }
            return
        }
        switch result {
        case .success:
            // A connection that replaces a lost one counts as a reconnect.
            if lostConnections.load(ordering: .relaxed) > reopened.load(ordering: .relaxed) { reopened.add(1, ordering: .relaxed) }
            logger.log(.info, "connected", ["node": endpoint.description, "slot": String(slot)])
        case .failure(let error):
            logger.log(.warning, "connect failed", ["node": endpoint.description, "code": "\(error.code)", "reason": error.message])
        }
        let now = MonotonicClock.now()
        let (waiters, orphan) = state.withLock { $0.finishConnecting(slot: slot, result: result, now: now) }
        if let orphan {
            orphan.close(RedisError(code: .poolClosed, delivery: .notSent, node: endpoint.description, message: "the pool was closed"))
        }
        for waiter in waiters { waiter.resume() }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        let open = state.withLock { state -> Bool in
            state.remove(connection)
            return !state.isClosed
        }
        // A pool being closed by its owner loses nothing.
        guard open else { return }
        lostConnections.add(1, ordering: .relaxed)
        logger.log(.warning, "connection lost", ["node": endpoint.description])
    }
}

/// Receives the event loop's ticks for a pool without keeping it alive.
private final class PoolTicker: EventLoopTickable, @unchecked Sendable {
    // @unchecked: `pool` is written once, before the ticker is shared, then only read.
    weak var pool: NodePool?
    let endpoint: RedisEndpoint

    init(endpoint: RedisEndpoint) { self.endpoint = endpoint }

    func attach(_ pool: NodePool) { self.pool = pool }

    func tick(now: UInt64) { pool?.expireWaiters(now: now) }
}
