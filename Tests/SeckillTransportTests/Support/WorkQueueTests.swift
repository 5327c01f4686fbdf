import SeckillTransport
import Synchronization
import Testing

/// The queue through which pools and clients hand background work to their `run()`: no
/// sockets, no sleeps; every wait is for a condition the test itself brings about.
@Suite("WorkQueue", .timeLimit(.minutes(1)))
struct WorkQueueTests {
    /// Suspends until `condition` holds, yielding in between (the condition is brought about
    /// by another task of the test).
    static func until(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }

    @Test("without a run() nothing is taken: submit says so and the work never runs")
    func noRunnerRefuses() async {
        let queue = WorkQueue()
        let ran = Atomic<Int>(0)
        #expect(queue.isRunning == false)
        #expect(queue.submit { ran.add(1, ordering: .relaxed) } == false)
        // A run() started later does not find it either: refused work is the caller's to do.
        let runner = Task { await queue.run() }
        await Self.until { queue.isRunning }
        runner.cancel()
        await runner.value
        #expect(ran.load(ordering: .relaxed) == 0)
    }

    @Test("work submitted to a running run() runs as its child; cancelling run() cancels the work and returns only after it ended")
    func cancelledRunEndsAfterItsWork() async {
        let queue = WorkQueue()
        let runner = Task { await queue.run() }
        await Self.until { queue.isRunning }
        let started = Atomic<Bool>(false)
        let sawCancellation = Atomic<Bool>(false)
        let ended = Atomic<Bool>(false)
        let accepted = queue.submit {
            started.store(true, ordering: .relaxed)
            // Runs until its task is cancelled: only run()'s cancellation can end it.
            while !Task.isCancelled { await Task.yield() }
            sawCancellation.store(true, ordering: .relaxed)
            ended.store(true, ordering: .relaxed)
        }
        #expect(accepted)
        await Self.until { started.load(ordering: .relaxed) }
        runner.cancel()
        await runner.value
        // run() returned: the work it ran has ended, none is left behind.
        #expect(ended.load(ordering: .relaxed) == true)
        #expect(sawCancellation.load(ordering: .relaxed) == true)
        #expect(queue.isRunning == false)
        #expect(queue.submit {} == false)
    }

    @Test("finish() ends every run() and waits for it; later work is refused")
    func finishEndsRun() async {
        let queue = WorkQueue()
        let first = Task { await queue.run() }
        let second = Task { await queue.run() }
        await Self.until { queue.isRunning }
        let count = Atomic<Int>(0)
        for _ in 0..<10 { #expect(queue.submit { count.add(1, ordering: .relaxed) }) }
        await Self.until { count.load(ordering: .relaxed) == 10 }
        await queue.finish()
        #expect(queue.isFinished)
        #expect(queue.submit {} == false)
        // Both returned on their own: nothing cancelled them.
        await first.value
        await second.value
        #expect(first.isCancelled == false && second.isCancelled == false)
    }

    @Test("finish() with no run() returns at once")
    func finishWithoutRun() async {
        let queue = WorkQueue()
        await queue.finish()
        #expect(queue.submit {} == false)
        // A run() after finish() returns at once.
        await queue.run()
    }
}
