import Glibc
import SeckillRESP
import SeckillRouting
import SeckillTestSupport
import SeckillTransport
import Testing

/// `ClusterClient.execute` against real cluster-enabled redis-servers answering `MOVED`:
/// redirects are followed only to nodes the cluster lists, never in static mode, and nothing
/// (no command, no AUTH) reaches an address they did not list.
@Suite("ClusterClient redirects", .timeLimit(.minutes(2)))
struct ClusterClientRedirectTests {
    @Test("static mode: a node answering MOVED fails the call with advice to use cluster mode; nothing goes to the redirect's address")
    func staticModeNeverFollows() async throws {
        let pair = try await RedirectingPair.start()
        try await pair.redirect()
        let config = try ClusterConfig(
            nodes: [NodeConfig(name: "node-a", host: "127.0.0.1", port: pair.a.port, slots: [0...16383])],
            source: "static.json"
        ).validated()
        let client = try ClusterClient(config: config, environment: [:])
        defer { client.close() }
        let target = "127.0.0.1:\(pair.proxy.port)"

        do {
            let reply = try await client.send(RESPCommand("SET", pair.key, "v"), key: pair.key)
            Issue.record("SET answered \(reply)")
        } catch let error as RedisError {
            #expect(error.node == "node-a (127.0.0.1:\(pair.a.port))")
            #expect(error.serverCode == nil)
            #expect(
                error.message.hasPrefix(
                    "node-a (127.0.0.1:\(pair.a.port)) belongs to a Redis Cluster: it answered \"MOVED \(pair.slot) \(target)\""),
                "\(error.message)")
            #expect(error.message.contains("nothing was sent to \(target)"))
            #expect(
                error.message.contains(#"Use cluster mode in static.json: set "mode": "cluster" and replace "nodes" with "seeds""#),
                "\(error.message)")
        }
        // A batch fails the same way, at once, without waiting out the deadline.
        let started = ContinuousClock.now
        await #expect(throws: RedisError.self) {
            try await client.execute(
                [RESPCommand("SET", pair.key, "v"), RESPCommand("GET", pair.key)],
                slot: try #require(HashSlot(pair.slot)), deadline: .now + .seconds(30))
        }
        #expect(ContinuousClock.now - started < .seconds(5))

        #expect(pair.proxy.accepted == 0, "the client connected to the redirect's address")
        #expect(client.pool(named: target) == nil)
        #expect(client.router.node(for: try #require(HashSlot(pair.slot))).name == "node-a")
        // Keys a serves still work.
        let other = try #require((0..<10_000).lazy.map { "other-\($0)" }.first { Int(HashSlot(key: $0).rawValue) != pair.slot })
        #expect(try await client.send(RESPCommand("SET", other, "1"), key: other) == .simpleString("OK"))
    }

    @Test(
        "cluster mode: a redirect to an address the refreshed topology does not list is refused and never connected to; once listed, it is followed"
    )
    func clusterModeFollowsOnlyListedAddresses() async throws {
        let pair = try await RedirectingPair.start(user: (name: "app", password: "s3cret"))
        let config = try ClusterConfig(
            mode: .cluster,
            seeds: [NodeAddress(host: "127.0.0.1", port: pair.a.port)],
            auth: AuthSettings(username: "app", passwordEnv: "SECKILL_TEST_PW"),
            source: "cluster.json"
        ).validated()
        let client = try await ClusterClient.connect(config: config, environment: ["SECKILL_TEST_PW": "s3cret"])
        defer { client.close() }
        let target = "127.0.0.1:\(pair.proxy.port)"
        #expect(client.topology?.allNodes.map(\.address) == ["127.0.0.1:\(pair.a.port)"])

        // The client may no longer read the topology, so its refresh cannot list b; then a
        // starts redirecting the key to b's announced address.
        try await RedisCluster.blocking { try pair.ok(pair.a, "ACL", "SETUSER", "app", "-cluster") }
        try await pair.redirect()
        let refreshesBefore = client.refreshCount
        do {
            let reply = try await client.send(RESPCommand("SET", pair.key, "v"), key: pair.key, deadline: .now + .seconds(10))
            Issue.record("SET answered \(reply)")
        } catch let error as RedisError {
            #expect(error.node == "127.0.0.1:\(pair.a.port)")
            #expect(
                error.message.contains("answered \"MOVED \(pair.slot) \(target)\", but \(target) is not a node of the cluster topology"),
                "\(error.message)")
            #expect(error.message.contains("the refresh just tried failed") && error.message.contains("NOPERM"), "\(error.message)")
            #expect(error.message.contains("nothing was sent to \(target)"))
        }
        #expect(client.refreshCount > refreshesBefore, "no refresh was awaited before refusing")
        #expect(pair.proxy.accepted == 0, "the client connected to an address the topology did not list")
        #expect(client.pool(named: target) == nil)

        // Once the refresh can read the topology, it lists b, and the redirect is followed.
        try await RedisCluster.blocking { try pair.ok(pair.a, "ACL", "SETUSER", "app", "+cluster") }
        #expect(
            try await client.send(RESPCommand("SET", pair.key, "v"), key: pair.key, deadline: .now + .seconds(10)) == .simpleString("OK"))
        #expect(pair.proxy.accepted >= 1)
        #expect(client.topology?.allNodes.contains { $0.address == target } == true)
        #expect(client.router.node(for: try #require(HashSlot(pair.slot))).name == target)
        let stored = try await RedisCluster.blocking { try AdminConnection.command(port: pair.b.port, ["GET", pair.key]) }
        #expect(stored.string == "v")
    }

    @Test("cluster mode: waiting for the refresh a new address needs ends at the call's deadline")
    func refreshWaitIsBoundedByTheDeadline() async throws {
        let pair = try await RedirectingPair.start(user: (name: "app", password: "s3cret"))
        // A seed that accepts connections and never answers: a refresh that gets to it hangs
        // for the connect timeout (8 s), far beyond the call's deadline (1 s).
        let silent = try SilentListener()
        let config = try ClusterConfig(
            mode: .cluster,
            seeds: [NodeAddress(host: "127.0.0.1", port: pair.a.port), NodeAddress(host: "127.0.0.1", port: silent.port)],
            timeouts: TimeoutSettings(connect: .seconds(8), command: .seconds(1)),
            auth: AuthSettings(username: "app", passwordEnv: "SECKILL_TEST_PW"),
            source: "cluster.json"
        ).validated()
        let client = try await ClusterClient.connect(config: config, environment: ["SECKILL_TEST_PW": "s3cret"])
        defer { client.close() }
        try await RedisCluster.blocking { try pair.ok(pair.a, "ACL", "SETUSER", "app", "-cluster") }
        try await pair.redirect()

        let started = ContinuousClock.now
        do {
            let reply = try await client.send(RESPCommand("SET", pair.key, "v"), key: pair.key, deadline: .now + .seconds(1))
            Issue.record("SET answered \(reply)")
        } catch let error as RedisError {
            #expect(error.message.contains("no refresh finished before the call's deadline"), "\(error.message)")
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(900) && waited < .seconds(4), "waited \(waited)")
        #expect(pair.proxy.accepted == 0)
    }
}

/// A loopback port that accepts connections (the kernel completes them) and never answers.
private final class SilentListener: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { close(fd) }
            throw AdminError("could not open a listening socket")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
