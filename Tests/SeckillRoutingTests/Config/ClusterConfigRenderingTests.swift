import SeckillRouting
import Testing

@Suite("ClusterConfig rendering")
struct ClusterConfigRenderingTests {
    @Test("config init output for three local nodes is the documented example without auth")
    func rendersExample() throws {
        let addresses = try NodeAddress.parseList("127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002")
        let config = try ClusterConfig.evenlySharded(across: addresses)
        #expect(
            config.render() == """
                {
                  "nodes": [
                    {"name": "node-a", "host": "127.0.0.1", "port": 7000, "slots": [[0, 5460]]},
                    {"name": "node-b", "host": "127.0.0.1", "port": 7001, "slots": [[5461, 10922]]},
                    {"name": "node-c", "host": "127.0.0.1", "port": 7002, "slots": [[10923, 16383]]}
                  ],
                  "pool": {"maxInFlightPerNode": 1024, "acquireTimeoutMs": 500},
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
            pool: PoolSettings(
                connectionsPerNode: 8, maxInFlightPerNode: 64, acquireTimeout: .milliseconds(20), reconnectMin: .milliseconds(5),
                reconnectMax: .seconds(10)),
            timeouts: TimeoutSettings(connect: .milliseconds(250), command: .milliseconds(75)),
            auth: AuthSettings(passwordEnv: "REDIS_PASSWORD"),
            database: 2,
            source: "generated.json"
        )
        #expect(try ClusterConfig.parse(tricky.render(), source: "generated.json") == tricky)
    }

    @Test("a cluster config renders mode and seeds, and leaves default sections out")
    func rendersClusterMode() throws {
        let config = try ClusterConfig.parse(clusterDocument(), source: "cluster.json")
        #expect(
            config.render() == """
                {
                  "mode": "cluster",
                  "seeds": [
                    {"host": "127.0.0.1", "port": 7100},
                    {"host": "127.0.0.1", "port": 7101},
                    {"host": "127.0.0.1", "port": 7102}
                  ],
                  "pool": {"maxInFlightPerNode": 1024, "acquireTimeoutMs": 500},
                  "timeouts": {"connectMs": 1000, "commandMs": 1000}
                }

                """)
    }

    @Test("topology is written whole when any field differs from its default; other layers' sections follow as read")
    func rendersSettingsSections() throws {
        var config = ClusterConfig(nodes: [NodeConfig(name: "solo", host: "127.0.0.1", port: 7000, slots: [0...16383])])
        config.topology.maxRedirects = 2
        config.sections["sale"] = try JSONValue.parse(#"{"callDeadlineMs": 2500}"#)
        config.sections["durability"] = try JSONValue.parse(#"{"replicas": 1}"#)
        #expect(
            config.render() == """
                {
                  "nodes": [
                    {"name": "solo", "host": "127.0.0.1", "port": 7000, "slots": [[0, 16383]]}
                  ],
                  "pool": {"maxInFlightPerNode": 1024, "acquireTimeoutMs": 500},
                  "timeouts": {"connectMs": 1000, "commandMs": 1000},
                  "topology": {"refreshIntervalMs": 5000, "maxRedirects": 2},
                  "durability": {"replicas": 1},
                  "sale": {"callDeadlineMs": 2500}
                }

                """)
        #expect(try ClusterConfig.parse(config.render(), source: config.source) == config)
    }

    @Test("render() output parses back to an equal config in both modes with every section")
    func roundTripsEverySection() throws {
        let topology = TopologySettings(refreshInterval: .milliseconds(1500), maxRedirects: 9)
        let sale = try JSONValue.parse(#"{"callDeadlineMs": 1200, "allowEvictionPolicy": true}"#)
        let staticConfig = ClusterConfig(
            nodes: threeNodes([0...5460], [5461...10922], [10923...16383]),
            auth: AuthSettings(username: "app", passwordEnv: "PW"),
            database: 1,
            topology: topology,
            sections: ["durability": try JSONValue.parse(#"{"replicas": 0, "timeoutMs": 40}"#), "sale": sale],
            source: "static.json"
        )
        #expect(staticConfig.validationProblems.isEmpty)
        #expect(try ClusterConfig.parse(staticConfig.render(), source: "static.json") == staticConfig)

        let clusterConfig = ClusterConfig(
            mode: .cluster,
            seeds: [NodeAddress(host: "::1", port: 7100), NodeAddress(host: "redis-\"a\"\\", port: 7101)],
            pool: PoolSettings(connectionsPerNode: 1, reconnectMax: .seconds(5)),
            timeouts: TimeoutSettings(connect: .milliseconds(300)),
            topology: topology,
            sections: ["durability": try JSONValue.parse(#"{"replicas": 2, "timeoutMs": 250}"#), "sale": sale],
            source: "cluster.json"
        )
        #expect(try ClusterConfig.parse(clusterConfig.render(), source: "cluster.json") == clusterConfig)

        let minimal = ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "10.0.0.1", port: 6379)], source: "min.json")
        #expect(try ClusterConfig.parse(minimal.render(), source: "min.json") == minimal)
    }

    @Test("sections the routing layer does not interpret are written back exactly as read, whatever they hold")
    func roundTripsUninterpretedSections() throws {
        let json = clusterDocument(
            extra: #""sale": {"allowEvictionPolicy": true, "futureField": [1, 2.5, null, {"x": "\u00e9\n"}]}, "durability": {}"#)
        let config = try ClusterConfig.parse(json, source: "x")
        let rendered = config.render()
        #expect(rendered.contains(#""durability": {},"#))
        #expect(rendered.contains(#""sale": {"allowEvictionPolicy": true, "futureField": [1, 2.5, null, {"x": "é\n"}]}"#))
        let again = try ClusterConfig.parse(rendered, source: "x")
        #expect(again == config)
        #expect(again.section(named: "sale") == (try JSONValue.parse(json))["sale"])
        #expect(again.render() == rendered)
    }

    @Test("a config invalid for its mode renders what it holds, so parsing reports the mistake")
    func rendersModeMismatch() {
        var config = ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "127.0.0.1", port: 7100)])
        config.nodes = [NodeConfig(name: "solo", host: "127.0.0.1", port: 7000, slots: [0...16383])]
        #expect(
            problems(parsing: config.render()) == [
                #"cluster.json: nodes: not allowed when "mode" is "cluster", which discovers the nodes and their slots from "seeds"; remove "nodes""#
            ])
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
