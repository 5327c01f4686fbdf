import Foundation
import SeckillRESP
import SeckillRouting
import SeckillTestSupport
import SeckillTransport
import Testing

/// `ClusterClient.executeOnce`, the hot path's single attempt: a prefix completed by its
/// arguments, on the node the current map names, error replies returned and counted.
@Suite("ClusterClient.executeOnce", .timeLimit(.minutes(1)))
struct ExecuteOnceTests {
    @Test("a prefix and its arguments arrive as one command; error replies come back as values and are counted per node")
    func appendsAndCounts() async throws {
        let a = try RedisServer()
        let b = try RedisServer()
        let client = try ClusterClientLifecycleTests.staticClient(a, b)
        defer { client.close() }
        let key = ClusterClientLifecycleTests.key(on: "node-a", of: client)
        let deadline = ContinuousClock.now + .seconds(30)

        let set = try await client.executeOnce(
            RESPCommand("SET", key), appending: ["v a l", "PX", "60000"], slot: HashSlot(key: key), deadline: deadline)
        #expect(set == .simpleString("OK"))
        #expect(try AdminConnection.command(port: a.port, ["GET", key]).string == "v a l")
        #expect(try AdminConnection.command(port: a.port, ["PTTL", key]).int ?? 0 > 0)

        let missing = try await client.executeOnce(
            RESPCommand("EVALSHA", String(repeating: "0", count: 40), "1"), appending: [key], slot: HashSlot(key: key), deadline: deadline)
        #expect(missing.errorMessage?.hasPrefix("NOSCRIPT") == true, "\(missing)")

        let snapshot = try #require(client.nodeMetrics().first { $0.node == "node-a" })
        #expect(snapshot.commands == 2)
        #expect(snapshot.errors["NOSCRIPT"] == 1)
        #expect(client.nodeMetrics().first { $0.node == "node-b" }?.commands ?? 0 == 0)
    }

    @Test("after the map changes the attempt goes to the slot's new owner")
    func followsTheMap() async throws {
        let a = try RedisServer()
        let b = try RedisServer()
        let client = try ClusterClientLifecycleTests.staticClient(a, b)
        defer { client.close() }
        let key = ClusterClientLifecycleTests.key(on: "node-a", of: client)
        let slot = HashSlot(key: key)
        let deadline = ContinuousClock.now + .seconds(30)
        _ = try await client.executeOnce(RESPCommand("SET", key), appending: ["first"], slot: slot, deadline: deadline)

        let nodeB = try #require(client.nodes.first { $0.name == "node-b" })
        client.router.reassign(slot, to: nodeB)
        _ = try await client.executeOnce(RESPCommand("SET", key), appending: ["second"], slot: slot, deadline: deadline)
        #expect(try AdminConnection.command(port: a.port, ["GET", key]).string == "first")
        #expect(try AdminConnection.command(port: b.port, ["GET", key]).string == "second")
    }
}
