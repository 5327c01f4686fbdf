internal import CSeckillSys
internal import Foundation
import Synchronization

/// Something the event loop drives: called only on the loop's thread.
protocol EventLoopHandler: AnyObject {
    /// The descriptor is readable, writable, or reported an error or hang-up.
    func handleEvents(readable: Bool, writable: Bool, failed: Bool)
    /// Called about every ``EventLoop/tickInterval`` to expire deadlines.
    func tick(now: UInt64)
}

/// A handler that has bytes to write, checked once per loop iteration.
protocol EventLoopFlushable: AnyObject {
    /// True when callers queued bytes that the loop has not picked up yet.
    var hasPendingOutput: Bool { get }
    /// Writes what callers queued, if anything.
    func flushIfNeeded()
    /// Writes what callers queued in the middle of a pass of the loop: only when the peer is
    /// short of work (few commands written and unanswered), since every write costs a system
    /// call and the peer's wake-up; the end of the pass writes the rest.
    func flushIfPeerIsShort()
}

/// Anything with deadlines that is not a descriptor (a pool's waiting callers).
protocol EventLoopTickable: AnyObject, Sendable {
    func tick(now: UInt64)
}

/// One thread that waits on epoll for every connection it owns and does their I/O.
///
/// Callers never block: they queue bytes on a connection and, only if the loop is asleep in
/// `epoll_wait`, poke its eventfd. While the loop is busy it picks up everything queued since
/// its last pass and writes it in one `send` per connection, so commands from concurrent
/// tasks leave in the same write.
final class EventLoop: @unchecked Sendable {
    // @unchecked: `handlers`, `flushables` and `tickables` are touched only on the loop
    // thread (every mutation arrives through `execute`); the rest is atomics and a Mutex.

    /// The process-wide loop used by default.
    static let shared = EventLoop(name: "seckill-io")

    /// How often deadlines are checked.
    static let tickInterval: UInt64 = 5_000_000

    private let epollFD: Int32
    private let wakeFD: Int32
    private let sleeping = Atomic<Bool>(false)
    private let hasTasks = Atomic<Bool>(false)
    private let tasks = Mutex<[@Sendable () -> Void]>([])

    private var handlers: [Int32: any EventLoopHandler] = [:]
    private var flushables: [any EventLoopFlushable] = []
    private var tickables: [WeakTickable] = []
    private var runningTasks: [@Sendable () -> Void] = []
    /// Jobs of tasks that prefer this loop as their executor, enqueued from other threads.
    private let remoteJobs = Mutex<[UnownedJob]>([])
    /// Jobs enqueued on the loop thread itself (a task resumed by a reply): no lock, no wake-up.
    private var localJobs: [UnownedJob] = []
    private var runningJobs: [UnownedJob] = []
    /// The loop thread's pthread id, set when it starts.
    private let threadID = Atomic<UInt>(0)

    private struct WeakTickable {
        weak var target: (any EventLoopTickable)?
    }

    init(name: String) {
        epollFD = csk_epoll_create()
        wakeFD = csk_eventfd_create()
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll/eventfd unavailable: errno \(errno)")
        _ = csk_epoll_ctl(epollFD, 0, wakeFD, UInt32(CSK_EVENT_READ))
        let thread = Thread { [self] in
            threadID.store(UInt(pthread_self()), ordering: .releasing)
            run()
        }
        thread.name = name
        thread.start()
    }

    /// Runs `task` on the loop thread, soon.
    func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(task) }
        hasTasks.store(true, ordering: .sequentiallyConsistent)
        wakeUp()
    }

    /// Wakes the loop if it is waiting in epoll; free when it is already awake.
    func wakeUp() {
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            _ = csk_eventfd_signal(wakeFD)
        }
    }

    // MARK: Loop-thread only

    /// Watches `fd` for `handler`. Loop thread only.
    func register(fd: Int32, handler: any EventLoopHandler, writable: Bool = false) {
        handlers[fd] = handler
        let interest = UInt32(CSK_EVENT_READ) | (writable ? UInt32(CSK_EVENT_WRITE) : 0)
        _ = csk_epoll_ctl(epollFD, 0, fd, interest)
    }

    /// Changes whether `fd` is watched for writability. Loop thread only.
    func setInterest(fd: Int32, readable: Bool, writable: Bool) {
        var interest: UInt32 = 0
        if readable { interest |= UInt32(CSK_EVENT_READ) }
        if writable { interest |= UInt32(CSK_EVENT_WRITE) }
        _ = csk_epoll_ctl(epollFD, 1, fd, interest)
    }

    /// Stops watching `fd` (the caller closes it). Loop thread only.
    func deregister(fd: Int32) {
        handlers[fd] = nil
        _ = csk_epoll_ctl(epollFD, 2, fd, 0)
    }

    /// Includes `flushable` in the per-iteration write pass. Loop thread only.
    func addFlushable(_ flushable: any EventLoopFlushable) {
        flushables.append(flushable)
    }

    /// Removes `flushable` from the write pass. Loop thread only.
    func removeFlushable(_ flushable: any EventLoopFlushable) {
        flushables.removeAll { $0 === flushable }
    }

    /// Adds a tick target, held weakly. Safe from any thread.
    func addTickable(_ target: any EventLoopTickable) {
        execute { [self] in tickables.append(WeakTickable(target: target)) }
    }

    private func run() {
        var events = [csk_event](repeating: csk_event(), count: 256)
        var nextTick = MonotonicClock.now() &+ Self.tickInterval
        while true {
            runTasks()
            for flushable in flushables { flushable.flushIfNeeded() }

            sleeping.store(true, ordering: .sequentiallyConsistent)
            var timeout = Int32(0)
            if !localJobs.isEmpty || hasTasks.load(ordering: .sequentiallyConsistent) || flushPending() {
                sleeping.store(false, ordering: .sequentiallyConsistent)
            } else {
                let now = MonotonicClock.now()
                timeout = nextTick > now ? Int32((nextTick - now) / 1_000_000) + 1 : 0
            }
            let count = events.withUnsafeMutableBufferPointer {
                csk_epoll_wait(epollFD, $0.baseAddress, Int32($0.count), timeout)
            }
            sleeping.store(false, ordering: .sequentiallyConsistent)

            if count > 0 {
                for index in 0..<Int(count) {
                    let event = events[index]
                    if event.fd == wakeFD {
                        _ = csk_eventfd_drain(wakeFD)
                        continue
                    }
                    guard let handler = handlers[event.fd] else { continue }
                    handler.handleEvents(
                        readable: event.events & UInt32(CSK_EVENT_READ) != 0,
                        writable: event.events & UInt32(CSK_EVENT_WRITE) != 0,
                        failed: event.events & UInt32(CSK_EVENT_ERROR | CSK_EVENT_HANGUP) != 0)
                }
            }

            let now = MonotonicClock.now()
            if now >= nextTick {
                nextTick = now &+ Self.tickInterval
                for handler in Array(handlers.values) { handler.tick(now: now) }
                var sawReleased = false
                for entry in tickables {
                    if let target = entry.target { target.tick(now: now) } else { sawReleased = true }
                }
                if sawReleased { tickables.removeAll { $0.target == nil } }
            }
        }
    }

    private func runTasks() {
        if hasTasks.exchange(false, ordering: .sequentiallyConsistent) {
            tasks.withLock { swap(&$0, &runningTasks) }
            for task in runningTasks { task() }
            runningTasks.removeAll(keepingCapacity: true)
            remoteJobs.withLock { jobs in
                localJobs.append(contentsOf: jobs)
                jobs.removeAll(keepingCapacity: true)
            }
        }
        if !localJobs.isEmpty { runJobs() }
    }

    /// Runs the jobs queued so far; jobs they enqueue wait for the next pass, after the loop
    /// has written what these queued and read what arrived.
    ///
    /// What they queue is written every ``jobsPerFlush`` jobs rather than after the last when
    /// the node is short of work: it starts on the first commands while the loop still runs
    /// the callers behind them, instead of the two taking turns (which at low concurrency
    /// costs a third of the throughput). A node with a backlog written already gets the rest
    /// at the end of the pass (or every ``jobsPerForcedFlush`` jobs of a long one), in one
    /// write rather than several.
    private func runJobs() {
        swap(&localJobs, &runningJobs)
        let executor = asUnownedTaskExecutor()
        var sinceFlush = 0
        for job in runningJobs {
            job.runSynchronously(on: executor)
            sinceFlush += 1
            if sinceFlush % Self.jobsPerFlush == 0 {
                // However large the node's backlog, a long pass writes now and then: the
                // backlog may run out before the pass ends.
                if sinceFlush == Self.jobsPerForcedFlush {
                    sinceFlush = 0
                    for flushable in flushables { flushable.flushIfNeeded() }
                } else {
                    for flushable in flushables { flushable.flushIfPeerIsShort() }
                }
            }
        }
        runningJobs.removeAll(keepingCapacity: true)
    }

    /// Jobs run between two write passes while callers run on the loop.
    static let jobsPerFlush = 16

    /// Jobs after which a pass writes whatever its callers queued, backlog or not.
    static let jobsPerForcedFlush = 128

    /// Whether the caller runs on the loop thread.
    var inLoopThread: Bool { threadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    private func flushPending() -> Bool {
        for flushable in flushables {
            if flushable.hasPendingOutput { return true }
        }
        return false
    }
}

/// Tasks that prefer the loop as their executor (`withTaskExecutorPreference`, or
/// `addTask(executorPreference:)`) run on the loop thread: a reply resumes its caller there,
/// without waking a thread of the global pool, and the caller's next command is queued on
/// the same thread that writes it.
extension EventLoop: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if inLoopThread {
            localJobs.append(job)
            return
        }
        remoteJobs.withLock { $0.append(job) }
        hasTasks.store(true, ordering: .sequentiallyConsistent)
        wakeUp()
    }
}
