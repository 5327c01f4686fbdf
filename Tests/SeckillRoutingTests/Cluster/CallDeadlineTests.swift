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
        // The first call's timeout closed the connection; this one meets the reconnect (or its
        // own timeout): either way it fails within the bound.
        #expect(groupedError.code == .timeout || groupedError.code == .connectFailed, "\(groupedError)")
    }
}
