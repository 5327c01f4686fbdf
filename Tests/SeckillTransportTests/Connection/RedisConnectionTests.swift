import Foundation
import SeckillRESP
import SeckillTestSupport
import SeckillTransport
import Testing

/// A connection's reply size limit and handshake, against real redis-server processes.
@Suite("RedisConnection against real Redis", .timeLimit(.minutes(2)))
struct RedisConnectionTests {
    static func pool(
        _ server: RedisServer, connections: Int = 1, maxReplyBytes: Int = ConnectionOptions.defaultMaxReplyBytes,
        password: String? = nil
    ) -> NodePool {
        NodePool(
            endpoint: RedisEndpoint(name: "node-\(server.port)", host: "127.0.0.1", port: server.port),
            connection: ConnectionOptions(commandTimeout: .seconds(10), password: password, maxReplyBytes: maxReplyBytes),
            pool: PoolOptions(connections: connections, reconnectMin: .milliseconds(20), reconnectMax: .milliseconds(100)))
    }

    /// Whether `error` is the reply-too-large failure: names the node, the size and the setting.
    static func isReplyTooLarge(_ error: any Error, node: String, atLeast size: Int) -> Bool {
        guard let error = error as? RedisError, error.code == .replyTooLarge else { return false }
        let sizes = error.message.split(separator: " ").compactMap { Int($0) }
        return error.node == node && error.message.contains(node)
            && error.message.contains("pool.maxReplyBytes") && error.message.contains("ConnectionOptions.maxReplyBytes")
            && sizes.contains { $0 >= size } && error.delivery == .replied && !error.commandDidNotRun
    }

    @Test("the default reply limit is 64 MiB")
    func defaultLimit() {
        #expect(ConnectionOptions().maxReplyBytes == 64 * 1024 * 1024)
    }

    @Test("a bulk reply over maxReplyBytes fails that command and closes only its connection; later commands work")
    func bulkReplyOverLimit() async throws {
        let server = try RedisServer()
        let key = "big-\(UUID().uuidString)"
        try server.cli("SET", key, String(repeating: "x", count: 4_096))
        let limited = Self.pool(server, maxReplyBytes: 1_024)
        let other = Self.pool(server)
        defer {
            limited.close()
            other.close()
        }
        #expect(try await limited.send(RESPCommand("PING")).string == "PONG")
        #expect(try await other.send(RESPCommand("PING")).string == "PONG")

        await #expect {
            try await limited.send(RESPCommand("GET", key))
        } throws: { error in
            Self.isReplyTooLarge(error, node: "node-\(server.port) (127.0.0.1:\(server.port))", atLeast: 4_096)
        }
        // The pool replaces the closed connection; a reply under the limit goes through.
        #expect(try await limited.send(RESPCommand("ECHO", "small")).string == "small")
        #expect(try await limited.send(RESPCommand("STRLEN", key)).int == 4_096)
        // The other pool's connection, on the same event loop, never noticed.
        #expect(try await other.send(RESPCommand("GET", key)).bytes?.count == 4_096)
    }

    @Test("an aggregate reply that grows past maxReplyBytes over many reads fails the same way")
    func aggregateReplyOverLimit() async throws {
        let server = try RedisServer()
        let key = "list-\(UUID().uuidString)"
        let element = String(repeating: "e", count: 100)
        let filler = Self.pool(server)
        defer { filler.close() }
        for _ in 0..<10 {
            var push = RESPCommand("RPUSH", key)
            for _ in 0..<1_000 { push.append(element) }
            _ = try await filler.send(push)
        }
        let limited = Self.pool(server, maxReplyBytes: 256 * 1024)
        defer { limited.close() }
        // About 1.1 MB: far more than one read, each element well under the limit.
        await #expect {
            try await limited.send(RESPCommand("LRANGE", key, "0", "-1"))
        } throws: { error in
            Self.isReplyTooLarge(error, node: "node-\(server.port) (127.0.0.1:\(server.port))", atLeast: 256 * 1024)
        }
        #expect(try await limited.send(RESPCommand("LRANGE", key, "0", "9")).array?.count == 10)
        #expect(try await limited.send(RESPCommand("LLEN", key)).int == 10_000)
    }

    @Test("a large reply under the limit arrives whole while other commands keep flowing")
    func largeReplyUnderLimit() async throws {
        let server = try RedisServer()
        let key = "big-\(UUID().uuidString)"
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let pool = Self.pool(server, connections: 2)
        defer { pool.close() }
        var set = RESPCommand("SET", key)
        set.append(payload)
        _ = try await pool.send(set)
        async let big = pool.send(RESPCommand("GET", key))
        for index in 0..<100 {
            #expect(try await pool.send(RESPCommand("ECHO", "\(index)")).string == "\(index)")
        }
        #expect(try await big.bytes == payload)
    }

    @Test("a full server (maxclients) refuses the handshake with a retryable connectFailed, not authenticationFailed")
    func maxClientsIsRetryable() async throws {
        let server = try RedisServer(arguments: ["--maxclients", "1"])
        let first = Self.pool(server)
        // The server may still count the client that checked it had started.
        #expect(try await Self.untilConnected(first)?.string == "PONG")
        let second = Self.pool(server)
        defer { second.close() }
        await #expect {
            try await second.send(RESPCommand("PING"))
        } throws: { error in
            let error = try #require(error as? RedisError)
            return error.code == .connectFailed && error.code != .authenticationFailed
                && error.delivery == .notSent && error.commandDidNotRun
        }
        // Once the first client leaves, the same pool connects on a later call.
        first.close()
        #expect(try await Self.untilConnected(second)?.string == "PONG")
    }

    /// PING through `pool` until a connection is accepted (the pool backs off between
    /// attempts), for at most 10 s; nil if none was.
    static func untilConnected(_ pool: NodePool) async throws -> RESPValue? {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            do {
                return try await pool.send(RESPCommand("PING"))
            } catch let error as RedisError where error.code == .connectFailed {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return nil
    }

    @Test("a wrong password is still authenticationFailed")
    func wrongPasswordIsAuthenticationFailed() async throws {
        let server = try RedisServer(password: "right-pass")
        let pool = Self.pool(server, password: "wrong-pass")
        defer { pool.close() }
        await #expect {
            try await pool.send(RESPCommand("PING"))
        } throws: { error in
            let error = try #require(error as? RedisError)
            return error.code == .authenticationFailed && error.serverCode == "WRONGPASS" && error.delivery == .notSent
        }
    }
}
