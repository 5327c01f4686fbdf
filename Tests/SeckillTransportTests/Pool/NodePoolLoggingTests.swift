import Foundation
import SeckillRESP
import SeckillTestSupport
import SeckillTransport
import Synchronization
import Testing

/// What a pool logs and counts about its connections.
@Suite("NodePool logs and reconnects", .timeLimit(.minutes(1)))
struct NodePoolLoggingTests {
    final class Collector: SeckillLogHandler {
        let lines = Mutex<[(LogLevel, String, [String: String])]>([])
        func log(level: LogLevel, message: String, metadata: [String: String]) {
            lines.withLock { $0.append((level, message, metadata)) }
        }
        func count(_ message: String) -> Int { lines.withLock { $0.filter { $0.1 == message }.count } }
    }

    @Test("a killed connection is logged as lost, its replacement as connected, and counted as one reconnect; a refused connect is logged")
    func lostAndReconnected() async throws {
        let server = try RedisServer()
        let collector = Collector()
        let pool = NodePool(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port),
            pool: PoolOptions(connections: 1, reconnectMin: .milliseconds(10), reconnectMax: .milliseconds(50)),
            logger: SeckillLogger(handler: collector, level: .info))
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("CLIENT", "SETNAME", "logged-pool"))
        #expect(collector.count("connected") == 1)
        #expect(pool.reconnects == 0)
        _ = try server.cli("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        // The next calls may meet the dead connection once; poll until a reply comes back.
        while (try? await pool.send(RESPCommand("PING"))) == nil || collector.count("connected") < 2 {
            guard clock.now < deadline else {
                Issue.record("the pool never reconnected")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(collector.count("connection lost") == 1)
        #expect(collector.count("connected") == 2)
        #expect(pool.reconnects == 1)
        let metadata = collector.lines.withLock { $0.first { $0.1 == "connection lost" }?.2 }
        #expect(metadata?["node"] == "127.0.0.1:\(server.port)")

        server.stop()
        _ = try? await pool.send(RESPCommand("PING"))
        while collector.count("connect failed") == 0 {
            guard clock.now < deadline else {
                Issue.record("no connect failure was logged")
                return
            }
            _ = try? await pool.send(RESPCommand("PING"))
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(collector.lines.withLock { $0.contains { $0.1 == "connect failed" && $0.0 == .warning } })
    }
}

@Suite("NodePool cancellation", .timeLimit(.minutes(1)))
struct NodePoolCancellationTests {
    @Test("a caller cancelled while it waits for a slot fails with cancelled at once, not at the acquire timeout; the pool goes on")
    func cancelledWaiter() async throws {
        let server = try RedisServer()
        let pool = NodePool(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), connection: ConnectionOptions(commandTimeout: .seconds(10)),
            pool: PoolOptions(connections: 1, maxInFlight: 1, acquireTimeout: .seconds(30)))
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("PING"))
        // The only slot is taken by a command the server holds until the test pushes to its
        // list: only a prompt cancellation ends the waiter (the suite's time limit ends a
        // waiter that waits for the slot).
        let list = "hold-\(UUID().uuidString)"
        let holder = Task { try await pool.send(RESPCommand("BLPOP", list, "0")) }
        while pool.inFlight == 0 { try await Task.sleep(for: .milliseconds(2)) }
        let waiter = Task { try await pool.send(RESPCommand("PING")) }
        while pool.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
        waiter.cancel()
        let result = await waiter.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.delivery == .notSent)
        #expect(pool.inFlight == 1, "the slot is still held")
        _ = try server.cli("LPUSH", list, "x")
        _ = try await holder.value
        #expect(try await pool.send(RESPCommand("PING")).string == "PONG")
    }

    @Test("a caller cancelled while its command is on the wire fails with cancelled at once, outcome unknown; later replies stay in order")
    func cancelledInFlight() async throws {
        let server = try RedisServer()
        let pool = NodePool(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), connection: ConnectionOptions(commandTimeout: .seconds(10)),
            pool: PoolOptions(connections: 1, maxInFlight: 8))
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("SET", "k", "v"))
        // Blocks until the test pushes to the list: only a prompt cancellation ends the call
        // (the suite's time limit would end a call that waits for its reply).
        let list = "cancel-list-\(UUID().uuidString)"
        let blocked = Task { try await pool.request(RESPCommand("BLPOP", list, "0")) }
        while (try? server.cli("CLIENT", "LIST", "TYPE", "normal"))?.contains("cmd=blpop") != true {
            try await Task.sleep(for: .milliseconds(2))
        }
        blocked.cancel()
        let result = await blocked.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.outcomeUnknown)
        // The same connection answers the next commands with their own replies: the BLPOP's
        // late reply is read and dropped.
        _ = try server.cli("LPUSH", list, "x")
        #expect(try await pool.send(RESPCommand("GET", "k")).string == "v")
        #expect(try await pool.pipeline([RESPCommand("ECHO", "a"), RESPCommand("ECHO", "b")]).map(\.string) == ["a", "b"])
    }
}
