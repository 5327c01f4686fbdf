import Synchronization

/// Work that must outlive the call that asked for it (a reconnect, a topology refresh), handed
/// to its owner's long-lived `run()` so that it runs as a child task there and nowhere else.
///
/// The rule every user of a queue follows: ``submit(_:)`` hands the work to a running
/// ``run()`` and returns true; when none is running it returns false and the caller does the
/// work inline, in its own task, bounded by its own deadline. No task is ever spawned outside
/// a `run()`, so nothing outlives its owner.
///
/// Work must finish its own bookkeeping even when it starts cancelled: work still queued when
/// `run()` ends is started anyway, as cancelled child tasks, so that it can give back what it
/// holds (a connect slot, a refresh in progress) instead of leaving callers waiting for it.
public final class WorkQueue: Sendable {
    /// One piece of work.
    public typealias Work = @Sendable () async -> Void

    private struct State {
        /// Work submitted and not yet started.
        var pending: [Work] = []
        /// Running ``run()`` calls, by id.
        var consumers: Set<Int> = []
        /// Consumers suspended until work arrives, by id.
        var idle: [Int: CheckedContinuation<Work?, Never>] = [:]
        /// Callers of ``finish()`` waiting for every `run()` to end.
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
        var nextID = 0
        /// Set by ``finish()``: no more work is taken and every `run()` ends.
        var finished = false
    }

    private let state = Mutex(State())
    /// ``isRunning``, kept beside the state for a read without the lock.
    private let running = Atomic<Bool>(false)

    /// Creates an empty queue with no `run()` yet.
    public init() {}

    /// Whether a ``run()`` is taking work now.
    public var isRunning: Bool { running.load(ordering: .relaxed) }

    /// Whether ``finish()`` was called.
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Hands `work` to a running ``run()``.
    ///
    /// - Returns: false, and `work` is dropped, when no `run()` is running (or the queue is
    ///   finished): the caller then does the work itself.
    public func submit(_ work: @escaping Work) -> Bool {
        let consumer = state.withLock { state -> CheckedContinuation<Work?, Never>?? in
            guard !state.consumers.isEmpty, !state.finished else { return nil }
            if let id = state.idle.keys.first {
                return .some(state.idle.removeValue(forKey: id))
            }
            state.pending.append(work)
            return .some(nil)
        }
        guard let consumer else { return false }
        consumer?.resume(returning: work)
        return true
    }

    /// Runs submitted work, each as a child task, until the calling task is cancelled or
    /// ``finish()`` is called; then cancels the work still running, starts what was queued
    /// (cancelled, see the type's notes) and returns when all of it has ended. Several `run()`
    /// calls may share a queue; each piece of work runs in one of them.
    public func run() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.consumers.insert(state.nextID)
            running.store(!state.finished, ordering: .relaxed)
            return state.nextID
        }
        await withDiscardingTaskGroup { group in
            while let work = await next(consumer: id) {
                group.addTask { await work() }
            }
            group.cancelAll()
            let leftover = state.withLock { state -> [Work] in
                state.consumers.remove(id)
                guard state.consumers.isEmpty else { return [] }
                running.store(false, ordering: .relaxed)
                defer { state.pending = [] }
                return state.pending
            }
            for work in leftover { group.addTask { await work() } }
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.consumers.isEmpty else { return [] }
            defer { state.finishWaiters = [] }
            return state.finishWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Ends every ``run()`` (as cancelling it would) and refuses later work; returns once
    /// every `run()` has returned (at once when none is running).
    public func finish() async {
        finishNow()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.consumers.isEmpty { return true }
                state.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Ends every ``run()`` and refuses later work, without waiting (``finish()`` waits).
    public func finishNow() {
        let consumers = state.withLock { state -> [CheckedContinuation<Work?, Never>] in
            state.finished = true
            running.store(false, ordering: .relaxed)
            defer { state.idle = [:] }
            return Array(state.idle.values)
        }
        for consumer in consumers { consumer.resume(returning: nil) }
    }

    /// The next piece of work for consumer `id`; nil when its task is cancelled or the queue
    /// finished.
    private func next(consumer id: Int) async -> Work? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Work?, Never>) in
                let now = state.withLock { state -> Work?? in
                    // The cancellation flag is set before the handler runs: checked under the
                    // lock, a cancellation is seen either here or by the handler.
                    if state.finished || Task.isCancelled { return .some(nil) }
                    if !state.pending.isEmpty { return .some(state.pending.removeFirst()) }
                    state.idle[id] = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let continuation = state.withLock { $0.idle.removeValue(forKey: id) }
            continuation?.resume(returning: nil)
        }
    }
}
