import SeckillRouting
import Testing

@Suite("ClusterConfig rendering")
struct ClusterConfigRenderingTests {
    @Test("config init output for three local nodes is the documented example without auth")
    func rendersExample() throws {
        let addresses = try NodeAddress.parseList("127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002")
        let config = try ClusterConfig.evenlySharded(across: addresses)
        #expect(config.render() == """
        {
          "nodes": [
            {"name": "node-a", "host": "127.0.0.1", "port": 7000, "slots": [[0, 5460]]},
            {"name": "node-b", "host": "127.0.0.1", "port": 7001, "slots": [[5461, 10922]]},
            {"name": "node-c", "host": "127.0.0.1", "port": 7002, "slots": [[10923, 16383]]}
          ],
          "pool": {"connectionsPerNode": 2, "maxInFlightPerNode": 1024, "acquireTimeoutMs": 500},
          "timeouts": {"connectMs": 1000, "commandMs": 1000}
        }

        """)
    }

    @Test("render() output parses back to an equal config")
    func roundTrips() throws {
        let example = try ClusterConfig.parse(exampleJSON, source: "cluster.json")
        #expect(try ClusterConfig.parse(example.render(), source: "cluster.json") == example)

        let tricky = ClusterConfig(
            nodes: [
                NodeConfig(name: "shard \"one\"\t\\", host: "::1", port: 7000, slots: [0...99, 200...16383]),
                NodeConfig(name: "節点-2", host: "redis.internal", port: 7001, slots: [100...199]),
            ],
            pool: PoolSettings(connectionsPerNode: 8, maxInFlightPerNode: 64, acquireTimeout: .milliseconds(20), reconnectMin: .milliseconds(5), reconnectMax: .seconds(10)),
            timeouts: TimeoutSettings(connect: .milliseconds(250), command: .milliseconds(75)),
            auth: AuthSettings(passwordEnv: "REDIS_PASSWORD"),
            database: 2,
            source: "generated.json"
        )
        #expect(try ClusterConfig.parse(tricky.render(), source: "generated.json") == tricky)
    }

    @Test("generated configs name nodes node-a, node-b, ... node-z, node-aa")
    func nodeNames() throws {
        #expect(ClusterConfig.nodeName(at: 0) == "node-a")
        #expect(ClusterConfig.nodeName(at: 25) == "node-z")
        #expect(ClusterConfig.nodeName(at: 26) == "node-aa")
        #expect(ClusterConfig.nodeName(at: 27) == "node-ab")
        #expect(ClusterConfig.nodeName(at: 701) == "node-zz")
        #expect(ClusterConfig.nodeName(at: 702) == "node-aaa")
        let addresses = (0..<30).map { NodeAddress(host: "10.0.0.\($0)", port: 6379) }
        let config = try ClusterConfig.evenlySharded(across: addresses, source: "big.json")
        #expect(Set(config.nodes.map(\.name)).count == 30)
        #expect(try ClusterConfig.parse(config.render(), source: "big.json") == config)
    }

    @Test("evenlySharded rejects an empty address list")
    func emptyAddressList() {
        #expect(throws: ConfigError.self) { try ClusterConfig.evenlySharded(across: []) }
    }
}
