import Synchronization

extension NodePool {
    /// Closes every connection at once; waiting and later callers fail with `poolClosed`, and
    /// commands in flight with the outcome unknown. Ends the pool's own ``run()``.
    /// ``shutdown(timeout:)`` lets the calls in flight finish first.
    public func close() {
        close(connections: RedisError(code: .poolClosed, delivery: .notSent, node: endpoint.description, message: "the pool was closed"))
        if ownsWork { work.finishNow() }
    }

    /// Runs the pool's connect attempts as child tasks until the task is cancelled or the pool
    /// is shut down or closed. Run it beside the work: `async let _ = pool.run()`, or in a
    /// task group.
    ///
    /// Without a running `run()` nothing runs in the background: a caller opens a connection
    /// itself (bounded by the connect timeout) only when it needs one, that is when none is
    /// open, or when every open one has commands in flight and a slot is empty (it then sends
    /// on the new one rather than queue behind them); one connection per caller at most. A
    /// caller with an idle connection never waits for another to open; ``warmUp()`` opens
    /// every slot at once. A pool made with an owner's ``work`` queue is run by the owner (a
    /// cluster client's `run()`); calling this as well adds a second runner.
    public func run() async {
        await work.run()
    }

    /// Shuts the pool down: new calls fail at once with `poolClosed` ("shut down"), the calls
    /// already taken (in flight or queued for a permit) may finish for up to `timeout`, then
    /// every connection is closed: commands still in flight fail with `cancelled` and an
    /// unknown outcome. Returns once the connections are closed, connect attempts under way
    /// have ended and the pool's own ``run()`` has returned.
    ///
    /// - Parameter timeout: How long the calls in flight may take to finish.
    public func shutdown(timeout: Duration = .seconds(5)) async {
        state.withLock { $0.beginShutdown() }
        draining.store(true, ordering: .relaxed)
        let reason = RedisError(
            code: .cancelled, delivery: .unknown, node: endpoint.description,
            message: "the pool was shut down before the reply came (in-flight commands get \(Self.milliseconds(timeout)) ms to finish)")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilDrained() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            // Wakes the drain wait if the timeout came first.
            close(connections: reason)
        }
        if ownsWork { await work.finish() }
        await waitForConnectAttempts()
        // Connections close on the loop thread: this runs after every close asked for above.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute { continuation.resume() }
        }
    }

    /// Suspends until nothing is in flight or queued, or the pool is closed.
    private func waitUntilDrained() async {
        try? await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            let registered = state.withLock { $0.addDrainWaiter(continuation) }
            if !registered { continuation.resume() }
        }
    }

    func wakeDrainWaiters() {
        let drained = state.withLock { $0.takeDrainWaitersIfDrained() }
        for waiter in drained { waiter.resume() }
    }

    /// Waits until no connect attempt is under way.
    private func waitForConnectAttempts() async {
        // A cancelled shutdown stops waiting (the wait would return at once, again and again).
        while !Task.isCancelled, state.withLock({ $0.isConnecting }) {
            try? await waitForConnectAttempt()
        }
    }

    /// Closes the pool; commands in flight fail with `reason` (outcome unknown).
    func close(connections reason: RedisError) {
        let pending = state.withLock { $0.close() }
        let error = RedisError(code: .poolClosed, delivery: .notSent, node: endpoint.description, message: "the pool was closed")
        for connection in pending.connections { connection.close(reason) }
        for waiter in pending.waiters { waiter.continuation.resume(throwing: error) }
        for waiter in pending.connectWaiters { waiter.resume() }
    }
}
