import Foundation
import SeckillRESP
import SeckillTestSupport
import SeckillTransport
import Synchronization
import Testing

/// Who owns a pool's connect attempts (its `run()`, or the callers without one) and how it
/// shuts down, against real redis-servers.
@Suite("NodePool lifecycle", .timeLimit(.minutes(1)))
struct NodePoolLifecycleTests {
    static func pool(_ server: RedisServer, connections: Int = 2, name: String) -> NodePool {
        NodePool(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port),
            connection: ConnectionOptions(commandTimeout: .seconds(30), clientName: name),
            pool: PoolOptions(connections: connections))
    }

    /// The server's connections named `name` (the pool's; the admin connection is unnamed).
    static func connections(_ server: RedisServer, named name: String) throws -> Int {
        let list = try AdminConnection.command(port: server.port, ["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
        return list.split(separator: "\n").filter { $0.contains(" name=\(name) ") }.count
    }

    /// Polls until the server has seen every connection named `name` close (it learns of a
    /// close when it next reads the socket); returns the count left after at most 20 s.
    static func connectionsAfterClose(_ server: RedisServer, named name: String) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let open = try connections(server, named: name)
            if open == 0 || ContinuousClock.now >= deadline { return open }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Whether a connection named `name` is blocked in the server on a `BLPOP`.
    static func blocking(_ server: RedisServer, named name: String) throws -> Bool {
        let list = try AdminConnection.command(port: server.port, ["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
        return list.split(separator: "\n").contains { $0.contains(" name=\(name) ") && $0.contains(" cmd=blpop ") }
    }

    /// Polls until `condition` holds (something the test started on a server brings it about).
    static func until(_ condition: () -> Bool) async throws {
        while !condition() { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test("shutdown lets a command in flight finish, then closes every connection and ends run(); later calls are refused as shut down")
    func shutdownDrains() async throws {
        let server = try RedisServer()
        let name = "drain-\(UInt32.random(in: 0...UInt32.max))"
        let pool = Self.pool(server, name: name)
        defer { pool.close() }
        let runner = Task { await pool.run() }
        try await Self.until { pool.work.isRunning }
        _ = try await pool.send(RESPCommand("PING"))
        // Blocks the server side until the test pushes to the list (no server-side timeout for
        // a slow machine to miss).
        let list = "drain-list-\(UUID().uuidString)"
        let slow = Task { try await pool.request(RESPCommand("BLPOP", list, "0")) }
        try await Self.until { (try? Self.blocking(server, named: name)) == true }

        let shutdown = Task { await pool.shutdown(timeout: .seconds(30)) }
        // Once new calls are refused, the shutdown is under way with the call in flight.
        try await Self.until { pool.isShuttingDown }
        _ = try server.cli("LPUSH", list, "x")
        await shutdown.value
        // Had shutdown closed the connection at once, the call would have failed.
        let reply = try await slow.value
        #expect(reply == .array([.bulkString(Array(list.utf8)), .bulkString(Array("x".utf8))]))
        await runner.value
        #expect(pool.work.isRunning == false)

        do {
            _ = try await pool.send(RESPCommand("PING"))
            Issue.record("a call after shutdown was answered")
        } catch let error as RedisError {
            #expect(error.code == .poolClosed)
            #expect(error.delivery == .notSent)
            #expect(error.message.contains("shut down"), "\(error.message)")
        }
        #expect(try await Self.connectionsAfterClose(server, named: name) == 0)
    }

    @Test("a command still in flight when shutdown's timeout ends fails with cancelled, outcome unknown, and its connection is closed")
    func shutdownTimeoutCancels() async throws {
        let server = try RedisServer()
        let name = "timeout-\(UInt32.random(in: 0...UInt32.max))"
        let pool = Self.pool(server, name: name)
        defer { pool.close() }
        // Blocks until the connection goes.
        let stuck = Task { try await pool.request(RESPCommand("BLPOP", "never-pushed-\(UUID().uuidString)", "0")) }
        // On the wire and blocking in the server (the pool counts it in flight already while
        // its connection is still being opened, when shutdown would refuse it unsent).
        try await Self.until { (try? Self.blocking(server, named: name)) == true }
        #expect(pool.inFlight == 1)
        await pool.shutdown(timeout: .milliseconds(50))
        let result = await stuck.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.outcomeUnknown)
        #expect(error.message.contains("shut down"), "\(error.message)")
        #expect(try await Self.connectionsAfterClose(server, named: name) == 0)
    }

    @Test("without run() the caller that finds no connection opens one and nothing else opens; warmUp() opens the rest in its own task")
    func callersConnectInline() async throws {
        let server = try RedisServer()
        let name = "inline-\(UInt32.random(in: 0...UInt32.max))"
        let pool = Self.pool(server, connections: 3, name: name)
        defer { pool.close() }
        #expect(pool.work.isRunning == false)
        for _ in 1...3 {
            #expect(try await pool.send(RESPCommand("PING")).string == "PONG")
            // The handshake names a connection before it is used: the server knows it now.
            #expect(try Self.connections(server, named: name) == 1)
        }
        try await pool.warmUp()
        #expect(try Self.connections(server, named: name) == 3)
        await pool.shutdown()
        #expect(try await Self.connectionsAfterClose(server, named: name) == 0)
    }

    @Test("with run() running, the pool's other connections are opened there")
    func runFillsSlots() async throws {
        let server = try RedisServer()
        let name = "filled-\(UInt32.random(in: 0...UInt32.max))"
        let pool = Self.pool(server, connections: 3, name: name)
        defer { pool.close() }
        let runner = Task { await pool.run() }
        try await Self.until { pool.work.isRunning }
        // Each call may start one more connection in run(); calls go on until all are open.
        while try Self.connections(server, named: name) < 3 {
            #expect(try await pool.send(RESPCommand("PING")).string == "PONG")
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(try Self.connections(server, named: name) == 3)
        await pool.shutdown()
        await runner.value
        #expect(try await Self.connectionsAfterClose(server, named: name) == 0)
    }

    @Test("a cancelled run() returns, and the pool goes on without it: a lost connection is reopened by the next caller")
    func cancelledRunLeavesPoolWorking() async throws {
        let server = try RedisServer()
        let name = "run-\(UInt32.random(in: 0...UInt32.max))"
        let pool = Self.pool(server, connections: 1, name: name)
        defer { pool.close() }
        let runner = Task { await pool.run() }
        try await Self.until { pool.work.isRunning }
        #expect(try await pool.send(RESPCommand("PING")).string == "PONG")
        runner.cancel()
        await runner.value
        #expect(pool.work.isRunning == false)

        _ = try server.cli("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        try await Self.until { (try? Self.connections(server, named: name)) == 0 }
        // The next calls may meet the dead connection once before it is known closed.
        var reply: RESPValue?
        for _ in 0..<3 where reply == nil { reply = try? await pool.send(RESPCommand("PING")) }
        #expect(reply?.string == "PONG")
        #expect(try Self.connections(server, named: name) == 1)
    }
}

/// Callers cancelled while a connection to their node is being opened.
@Suite("NodePool connect cancellation", .timeLimit(.minutes(1)))
struct NodePoolConnectCancellationTests {
    /// A pool whose connect attempts to a frozen server hang in the handshake for up to 2
    /// minutes: longer than the time limit, so only a prompt cancellation ends the call.
    static func frozenPool(_ server: RedisServer) -> NodePool {
        NodePool(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port),
            connection: ConnectionOptions(connectTimeout: .seconds(120), commandTimeout: .seconds(120)),
            pool: PoolOptions(connections: 1))
    }

    @Test("with run() running, a caller waiting for the connect attempt there gets cancelled (not sent) at once when cancelled")
    func cancelledWhileRunConnects() async throws {
        let server = try RedisServer()
        let pool = Self.frozenPool(server)
        defer { pool.close() }
        let runner = Task { await pool.run() }
        try await NodePoolLifecycleTests.until { pool.work.isRunning }
        server.pause()
        defer { server.resume() }
        let caller = Task { try await pool.send(RESPCommand("PING")) }
        try await NodePoolLifecycleTests.until { pool.inFlight == 1 }
        caller.cancel()
        let result = await caller.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.delivery == .notSent)
        // run() gives its attempt up when cancelled, and returns.
        runner.cancel()
        await runner.value
    }

    @Test("without run(), a caller opening the connection itself gets cancelled (not sent) at once when cancelled")
    func cancelledWhileConnectingInline() async throws {
        let server = try RedisServer()
        let pool = Self.frozenPool(server)
        defer { pool.close() }
        server.pause()
        defer { server.resume() }
        let caller = Task { try await pool.send(RESPCommand("PING")) }
        try await NodePoolLifecycleTests.until { pool.inFlight == 1 }
        caller.cancel()
        let result = await caller.result
        guard case .failure(let error as RedisError) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.delivery == .notSent)
        // The attempt was given up, not counted against the node: the next caller connects.
        server.resume()
        #expect(try await pool.send(RESPCommand("PING")).string == "PONG")
    }
}
