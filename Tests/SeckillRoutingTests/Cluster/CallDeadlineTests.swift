import SeckillRESP
import SeckillRouting
import SeckillTestSupport
import SeckillTransport
import Testing

/// Each attempt of a call waits the smaller of the command timeout and the time the call has left.
@Suite("Call deadline", .timeLimit(.minutes(1)))
struct CallDeadlineTests {
    @Test("a frozen node fails a call at its deadline with an unknown outcome, not after the much longer command timeout")
    func attemptCappedByDeadline() async throws {
        let server = try RedisServer()
        let config = try ClusterConfig(
            nodes: [NodeConfig(name: "solo", host: "127.0.0.1", port: server.port, slots: [0...16383])],
            timeouts: TimeoutSettings(connect: .seconds(2), command: .seconds(20)),
            source: "test"
        ).validated()
        let client = try ClusterClient(config: config, environment: [:])
        defer { client.close() }
        _ = try await client.send(RESPCommand("SET", "k", "v"), key: "k")
        server.pause()
        defer { server.resume() }
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: RedisError.self) {
            _ = try await client.execute([RESPCommand("GET", "k")], slot: HashSlot(key: "k"), deadline: started + .milliseconds(300))
        }
        let elapsed = clock.now - started
        #expect(error?.code == .timeout)
        #expect(error?.outcomeUnknown == true)
        // Bounded by the 300 ms left, far from the 20 s command timeout.
        #expect(elapsed < .seconds(10), "took \(elapsed)")

        // The grouped route keeps the same bound.
        let groupedStart = clock.now
        let answers = await client.execute(
            [ClusterClient.Call(slot: HashSlot(key: "k"), commands: [RESPCommand("GET", "k")])],
            deadline: groupedStart + .milliseconds(300))
        #expect(clock.now - groupedStart < .seconds(10))
        guard case .failure(let groupedError) = answers.first else {
            Issue.record("the frozen node answered")
            return
        }
        // The first call's timeout failed that call alone: this one times out on the same
        // connection, within the same bound.
        #expect(groupedError.code == .timeout, "\(groupedError)")
    }

    @Test("a caller whose deadline passes at the head of the pipeline fails alone: the connection and the calls behind it go on")
    func shortDeadlineAtTheHead() async throws {
        let server = try RedisServer()
        let pool = NodePool(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), connection: ConnectionOptions(commandTimeout: .seconds(30)),
            pool: PoolOptions(connections: 1))
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("PING"))
        server.pause()
        defer { server.resume() }
        // The head of the pipeline: a call with 50 ms left. Behind it: one with the whole
        // command timeout.
        let impatient = Task { try await pool.request(RESPCommand("PING"), within: .milliseconds(50)) }
        while pool.inFlight == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let patient = Task { try await pool.request(RESPCommand("ECHO", "behind")) }
        let result = await impatient.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        #expect(error.code == .timeout)
        #expect(error.outcomeUnknown)
        server.resume()
        // Had the timeout dropped the connection, this call would have failed with it.
        #expect(try await patient.value.string == "behind")
        #expect(try await pool.send(RESPCommand("PING")).string == "PONG")
        #expect(pool.reconnects == 0)
        #expect(
            try server.cli("CLIENT", "LIST", "TYPE", "normal").split(separator: "\n").count == 2, "the pool's one connection and redis-cli")
    }

    @Test("a node that answers nothing for the command timeout has its connection dropped; the next call reconnects")
    func stuckNodeDropsTheConnection() async throws {
        let server = try RedisServer()
        let lost = LostConnections()
        let pool = NodePool(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port),
            connection: ConnectionOptions(commandTimeout: .milliseconds(200)),
            pool: PoolOptions(connections: 1), logger: SeckillLogger(handler: lost, level: .warning))
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("PING"))
        server.pause()
        let stuck = Task { try await pool.request(RESPCommand("PING")) }
        let result = await stuck.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a timeout, got \(result)")
            server.resume()
            return
        }
        #expect(error.code == .timeout)
        // Nothing answered for the command timeout: the connection is dropped (within a tick
        // of the loop after the caller's own timeout).
        while lost.count.value == 0 { try await Task.sleep(for: .milliseconds(2)) }
        server.resume()
        var reply: RESPValue?
        for _ in 0..<3 where reply == nil { reply = try? await pool.send(RESPCommand("PING")) }
        #expect(reply?.string == "PONG")
        #expect(pool.reconnects == 1, "the stuck connection was replaced")
    }
}

/// Counts the pool's "connection lost" messages.
private final class LostConnections: SeckillLogHandler {
    let count = Locked(0)

    func log(level: LogLevel, message: String, metadata: [String: String]) {
        if message == "connection lost" { count.withLock { $0 += 1 } }
    }
}
