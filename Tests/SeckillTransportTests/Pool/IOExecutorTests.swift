import SeckillRESP
import SeckillTestSupport
import SeckillTransport
import Testing

/// Callers that run on the I/O thread's executor (``NodePool/ioExecutor``).
@Suite("The I/O executor", .timeLimit(.minutes(1)))
struct IOExecutorTests {
    @Test("callers that prefer the I/O executor run on the I/O thread, before and after each reply, and get their own replies")
    func callersRunOnTheIOThread() async throws {
        let server = try RedisServer()
        let pool = NodePoolTests.pool(server, acquireTimeout: .seconds(30), commandTimeout: .seconds(30))
        defer { pool.close() }
        let outcomes = try await withThrowingTaskGroup(of: (wrong: Int, offThread: Int).self) { group in
            for caller in 0..<500 {
                group.addTask(executorPreference: NodePool.ioExecutor) {
                    var wrong = 0
                    var offThread = 0
                    for round in 0..<4 {
                        if !NodePool.onIOThread { offThread += 1 }
                        let value = "caller-\(caller)-round-\(round)"
                        let reply = try await pool.send(RESPCommand("ECHO", value))
                        if !NodePool.onIOThread { offThread += 1 }
                        if reply.string != value { wrong += 1 }
                    }
                    return (wrong, offThread)
                }
            }
            var total = (wrong: 0, offThread: 0)
            for try await outcome in group {
                total.wrong += outcome.wrong
                total.offThread += outcome.offThread
            }
            return total
        }
        #expect(outcomes.wrong == 0)
        #expect(outcomes.offThread == 0)
    }

    @Test("a task without the preference runs elsewhere: the check above can fail")
    func otherTasksRunElsewhere() async throws {
        let server = try RedisServer()
        let pool = NodePoolTests.pool(server)
        defer { pool.close() }
        let onIOThread = try await Task.detached {
            _ = try await pool.send(RESPCommand("PING"))
            return NodePool.onIOThread
        }.value
        #expect(!onIOThread)
    }

    @Test("a caller on the I/O thread that waits for a free slot is resumed there")
    func waitersResumeOnTheIOThread() async throws {
        let server = try RedisServer()
        let pool = NodePoolTests.pool(server, maxInFlight: 2, maxWaiting: 1_000, acquireTimeout: .seconds(30))
        defer { pool.close() }
        let offThread = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 {
                group.addTask(executorPreference: NodePool.ioExecutor) {
                    _ = try await pool.send(RESPCommand("PING"))
                    return NodePool.onIOThread ? 0 : 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(offThread == 0)
    }
}
