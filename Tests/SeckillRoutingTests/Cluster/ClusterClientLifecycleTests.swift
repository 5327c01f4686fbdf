import Foundation
import SeckillRESP
import SeckillRouting
import SeckillTestSupport
import SeckillTransport
import Synchronization
import Testing

/// `ClusterClient.run()` owning the background work, the client without it, cancellation and
/// `shutdown(timeout:)`, against real redis-servers.
@Suite("ClusterClient lifecycle", .timeLimit(.minutes(1)))
struct ClusterClientLifecycleTests {
    final class Collector: SeckillLogHandler {
        let lines = Mutex<[(LogLevel, String, [String: String])]>([])
        func log(level: LogLevel, message: String, metadata: [String: String]) {
            lines.withLock { $0.append((level, message, metadata)) }
        }
        func count(_ message: String, level: LogLevel) -> Int {
            lines.withLock { $0.filter { $0.1 == message && $0.0 == level }.count }
        }
    }

    /// A static client over two nodes splitting the slots, with timeouts long enough for
    /// the blocking commands the tests send.
    static func staticClient(_ a: RedisServer, _ b: RedisServer) throws -> ClusterClient {
        let config = try ClusterConfig(
            nodes: [
                NodeConfig(name: "node-a", host: "127.0.0.1", port: a.port, slots: [0...8191]),
                NodeConfig(name: "node-b", host: "127.0.0.1", port: b.port, slots: [8192...16383]),
            ],
            timeouts: TimeoutSettings(command: .seconds(120)),
            source: "lifecycle.json"
        ).validated()
        return try ClusterClient(config: config, environment: [:])
    }

    /// A key served by `node` of `client`.
    static func key(on node: String, of client: ClusterClient) -> String {
        (0..<100_000).lazy.map { "lifecycle-\($0)-\(UUID().uuidString)" }.first { client.router.node(forKey: $0).name == node }!
    }

    /// The server's client connections, the admin connection asking left out.
    static func clientConnections(_ server: RedisServer) throws -> Int {
        let list = try AdminConnection.command(port: server.port, ["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
        return list.split(separator: "\n").filter { !$0.contains(" cmd=client|list ") }.count
    }

    /// Polls until the server has seen the client's connections close (it learns of a close
    /// when it next reads the socket); returns the count left after at most 20 s.
    static func connectionsAfterClose(_ server: RedisServer) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let open = try clientConnections(server)
            if open == 0 || ContinuousClock.now >= deadline { return open }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// How many clients the server holds in a blocking command.
    static func blockedClients(_ server: RedisServer) throws -> Int {
        let info = try AdminConnection.command(port: server.port, ["INFO", "clients"]).string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("blocked_clients:") }
        return line.flatMap { Int($0.dropFirst("blocked_clients:".count)) } ?? -1
    }

    /// Polls until `condition` holds (something the test started brings it about).
    static func until(_ condition: () -> Bool) async throws {
        while !condition() { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test("shutdown lets the calls in flight finish, then closes every socket of every node and ends run(); later calls fail as shut down")
    func shutdownDrainsEveryNode() async throws {
        let a = try RedisServer()
        let b = try RedisServer()
        let client = try Self.staticClient(a, b)
        defer { client.close() }
        let runner = Task { await client.run() }
        try await Self.until { client.isRunning }
        let onA = Self.key(on: "node-a", of: client)
        let onB = Self.key(on: "node-b", of: client)
        // Both calls block the server side until the test pushes to their lists (no server-side
        // timeout for a slow machine to miss).
        let slowA = Task { try await client.send(RESPCommand("BLPOP", onA, "0"), key: onA) }
        let slowB = Task { try await client.send(RESPCommand("BLPOP", onB, "0"), key: onB) }
        try await Self.until { (try? Self.blockedClients(a)) == 1 && (try? Self.blockedClients(b)) == 1 }

        let shutdown = Task { await client.shutdown(timeout: .seconds(60)) }
        // Once new calls are refused, the shutdown is under way with both calls in flight.
        try await Self.until { client.isShutDown }
        _ = try AdminConnection.command(port: a.port, ["LPUSH", onA, "x"])
        _ = try AdminConnection.command(port: b.port, ["LPUSH", onB, "y"])
        await shutdown.value
        // Had shutdown closed the connections at once, the calls would have failed.
        #expect(try await slowA.value == .array([.bulkString(Array(onA.utf8)), .bulkString(Array("x".utf8))]))
        #expect(try await slowB.value == .array([.bulkString(Array(onB.utf8)), .bulkString(Array("y".utf8))]))
        await runner.value
        #expect(client.isRunning == false)

        for key in [onA, onB] {
            do {
                _ = try await client.send(RESPCommand("GET", key), key: key)
                Issue.record("a call after shutdown was answered")
            } catch let error as RedisError {
                #expect(error.code == .poolClosed)
                #expect(error.delivery == .notSent)
                #expect(error.message.contains("shut down"), "\(error.message)")
            }
        }
        #expect(try await Self.connectionsAfterClose(a) == 0)
        #expect(try await Self.connectionsAfterClose(b) == 0)
    }

    @Test("a call still in flight when shutdown's timeout ends fails with cancelled, outcome unknown; the sockets are closed")
    func shutdownTimeout() async throws {
        let a = try RedisServer()
        let b = try RedisServer()
        let client = try Self.staticClient(a, b)
        defer { client.close() }
        let onA = Self.key(on: "node-a", of: client)
        // Blocks until its connection goes.
        let stuck = Task { try await client.send(RESPCommand("BLPOP", onA, "0"), key: onA) }
        // Blocking in the server, so on the wire (the pool counts it in flight already while
        // its connection is still being opened, when shutdown would refuse it unsent).
        try await Self.until { (try? Self.blockedClients(a)) == 1 }
        await client.shutdown(timeout: .milliseconds(50))
        let result = await stuck.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.outcomeUnknown)
        #expect(try await Self.connectionsAfterClose(a) == 0)
    }

    @Test("a caller cancelled while its command is on the wire gets cancelled at once, outcome unknown; the client goes on")
    func cancelledCaller() async throws {
        let a = try RedisServer()
        let b = try RedisServer()
        let client = try Self.staticClient(a, b)
        defer { client.close() }
        let onA = Self.key(on: "node-a", of: client)
        // Blocks until the test pushes to the list: only a prompt cancellation ends the call.
        let list = "{\(onA)}:list"
        let blocked = Task { try await client.send(RESPCommand("BLPOP", list, "0"), key: list) }
        // On the wire: the server holds it.
        try await Self.until { (try? Self.blockedClients(a)) == 1 }
        blocked.cancel()
        let result = await blocked.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.outcomeUnknown)
        // The same connection answers the next command once the server is done with the BLPOP
        // (its late reply read and dropped).
        _ = try AdminConnection.command(port: a.port, ["LPUSH", list, "x"])
        #expect(try await client.send(RESPCommand("SET", onA, "v"), key: onA) == .simpleString("OK"))
    }

    /// A cluster-mode client of `pair`'s node a, refreshing on its own only once an hour
    /// unless told otherwise.
    static func clusterClient(
        _ pair: RedirectingPair, logger: SeckillLogger = .disabled, refreshInterval: Duration = .seconds(3600)
    ) async throws -> ClusterClient {
        let config = try ClusterConfig(
            mode: .cluster,
            seeds: [NodeAddress(host: "127.0.0.1", port: pair.a.port)],
            timeouts: TimeoutSettings(command: .seconds(120)),
            topology: TopologySettings(refreshInterval: refreshInterval),
            source: "cluster.json"
        ).validated()
        return try await ClusterClient.connect(config: config, environment: [:], logger: logger)
    }

    @Test("run() runs the refreshes asked for; cancelled mid-refresh it returns at once, the refresh given up rather than failed")
    func runOwnsRefreshes() async throws {
        let pair = try await RedirectingPair.start()
        let client = try await Self.clusterClient(pair)
        defer { client.close() }
        let runner = Task { await client.run() }
        try await Self.until { client.isRunning }
        let before = client.refreshCount
        client.requestRefresh()
        try await Self.until { client.refreshCount > before }
        #expect(client.lastRefreshError == nil)

        // A refresh that cannot end: the node it asks is frozen, and the command timeout is long.
        let counted = client.refreshCount
        let node = "127.0.0.1:\(pair.a.port)"
        pair.a.pause()
        defer { pair.a.resume() }
        client.requestRefresh()
        try await Self.until { client.pool(named: node)?.inFlight == 1 }
        runner.cancel()
        await runner.value
        #expect(client.isRunning == false)
        #expect(client.refreshCount == counted)
        #expect(client.lastRefreshError == nil)

        // Without run() a call that needs a refresh does it itself.
        pair.a.resume()
        try await client.refreshTopology()
        #expect(client.refreshCount == counted + 1)
    }

    @Test("run() refreshes periodically in cluster mode, and a shutdown ends it")
    func periodicRefresh() async throws {
        let pair = try await RedirectingPair.start()
        let client = try await Self.clusterClient(pair, refreshInterval: .milliseconds(20))
        defer { client.close() }
        let runner = Task { await client.run() }
        let before = client.refreshCount
        try await Self.until { client.refreshCount >= before + 3 }
        #expect(client.lastRefreshError == nil)
        await client.shutdown()
        await runner.value
        #expect(client.isRunning == false)
        #expect(try await Self.connectionsAfterClose(pair.a) == 0)
    }

    @Test("without run(), a call meeting MOVED to a node new to the client refreshes the topology itself before it returns")
    func refreshInlineWithoutRun() async throws {
        let pair = try await RedirectingPair.start()
        let client = try await Self.clusterClient(pair)
        defer { client.close() }
        try await pair.redirect()
        let before = client.refreshCount
        #expect(client.isRunning == false)
        #expect(try await client.send(RESPCommand("SET", pair.key, "v"), key: pair.key) == .simpleString("OK"))
        #expect(client.refreshCount > before)
        #expect(client.topology?.allNodes.contains { $0.address == "127.0.0.1:\(pair.proxy.port)" } == true)
        #expect(client.router.node(for: try #require(HashSlot(pair.slot))).name == "127.0.0.1:\(pair.proxy.port)")
    }

    @Test("without run(), 50 calls meeting the same redirect at once share a few refreshes, one at a time")
    func inlineRefreshesCoalesce() async throws {
        let pair = try await RedirectingPair.start()
        let client = try await Self.clusterClient(pair)
        defer { client.close() }
        try await pair.redirect()
        let before = client.refreshCount
        let replies = try await withThrowingTaskGroup(of: RESPValue.self) { group in
            for index in 0..<50 {
                group.addTask { try await client.send(RESPCommand("SET", pair.key, String(index)), key: pair.key) }
            }
            return try await group.reduce(into: [RESPValue]()) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0 == .simpleString("OK") })
        let refreshes = client.refreshCount - before
        // One per redirect would be 50 or more (3 measured): each caller runs the refresh or
        // waits for the running one.
        #expect(refreshes >= 1 && refreshes <= 10, "\(refreshes) refreshes for 50 calls")
    }

    @Test("a failed refresh is logged as a warning and kept as lastRefreshError")
    func refreshFailureRecorded() async throws {
        let pair = try await RedirectingPair.start()
        let collector = Collector()
        let client = try await Self.clusterClient(pair, logger: SeckillLogger(handler: collector, level: .info))
        defer { client.close() }
        #expect(client.lastRefreshError == nil)
        pair.a.stop()
        await #expect(throws: RedisError.self) { try await client.refreshTopology() }
        let recorded = try #require(client.lastRefreshError as? RedisError)
        #expect(recorded.code == .connectFailed)
        #expect(collector.count("topology refresh failed", level: .warning) == 1)
    }
}
