import SeckillRESP
import SeckillTestSupport
import SeckillTransport
import Testing

/// The fault proxy the retry tests rely on: it forwards faithfully, loses exactly what it is
/// armed to lose, and leaves nothing open when stopped.
@Suite("FaultProxy", .timeLimit(.minutes(1)))
struct FaultProxyTests {
    static func pool(port: Int) -> NodePool {
        NodePool(
            endpoint: RedisEndpoint(name: "proxied", host: "127.0.0.1", port: port),
            connection: ConnectionOptions(connectTimeout: .seconds(1), commandTimeout: .seconds(2)),
            pool: PoolOptions(connections: 1, reconnectMin: .milliseconds(5), reconnectMax: .milliseconds(50)))
    }

    /// Connected clients of `server` other than the one asking.
    static func clients(_ server: RedisServer) async throws -> Int {
        let list = try await offThePool { try server.cli("CLIENT", "LIST") }
        return list.split(whereSeparator: \.isNewline).count - 1
    }

    @Test("forwards commands and replies, and loses exactly the armed reply or request")
    func forwardsAndLoses() async throws {
        let server = try await offThePool { try RedisServer.verified() }
        let proxy = try FaultProxy(upstreamPort: server.port)
        let pool = Self.pool(port: proxy.port)
        defer { pool.close() }
        #expect(try await pool.send(RESPCommand("PING")).string == "PONG")

        proxy.arm(.dropNextReply)
        #expect(proxy.isArmed)
        let lostReply = await #expect(throws: RedisError.self) { _ = try await pool.send(RESPCommand("SET", "ran", "1")) }
        #expect(lostReply?.delivery == .unknown)
        #expect(!proxy.isArmed)
        #expect(try await pool.send(RESPCommand("GET", "ran")).string == "1", "the server ran the command whose reply was lost")

        proxy.arm(.dropNextRequest)
        let lostRequest = await #expect(throws: RedisError.self) { _ = try await pool.send(RESPCommand("SET", "never", "1")) }
        #expect(lostRequest?.delivery == .unknown)
        #expect(try await pool.send(RESPCommand("EXISTS", "never")).int == 0, "the lost request never reached the server")
        #expect(proxy.dropped == 2)
        #expect(proxy.accepted >= 3)
    }

    @Test("a delayed reply arrives late but intact")
    func delaysReply() async throws {
        let server = try await offThePool { try RedisServer.verified() }
        let proxy = try FaultProxy(upstreamPort: server.port)
        let pool = Self.pool(port: proxy.port)
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("PING"))
        proxy.arm(.delayNextReply(.milliseconds(300)))
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try await pool.send(RESPCommand("ECHO", "late")).string == "late")
        #expect(clock.now - start >= .milliseconds(250))
        #expect(proxy.delayed == 1)
    }

    @Test("stopping closes the listener and every proxied connection")
    func stopClosesEverything() async throws {
        let server = try await offThePool { try RedisServer.verified() }
        let proxy = try FaultProxy(upstreamPort: server.port)
        let pool = Self.pool(port: proxy.port)
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("PING"))
        #expect(try await Self.clients(server) == 1)
        proxy.stop()
        #expect(try await Self.clients(server) == 0)
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send(RESPCommand("PING")) }
        #expect(error?.delivery != .replied)
        proxy.stop()
    }

    @Test("severing drops open connections and lets new ones through")
    func severAll() async throws {
        let server = try await offThePool { try RedisServer.verified() }
        let proxy = try FaultProxy(upstreamPort: server.port)
        let pool = Self.pool(port: proxy.port)
        defer { pool.close() }
        _ = try await pool.send(RESPCommand("PING"))
        proxy.severAll()
        var answered = false
        for _ in 0..<50 where !answered {
            answered = (try? await pool.send(RESPCommand("PING")))?.string == "PONG"
            if !answered { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(answered)
        #expect(proxy.accepted >= 2)
    }
}
