import SeckillRouting
import Testing

@Suite("ClusterConfig mode and seeds")
struct ClusterModeTests {
    private static let seedAddresses = [
        NodeAddress(host: "127.0.0.1", port: 7100),
        NodeAddress(host: "127.0.0.1", port: 7101),
        NodeAddress(host: "127.0.0.1", port: 7102),
    ]

    @Test("mode defaults to static with no seeds")
    func staticByDefault() throws {
        let config = try ClusterConfig.parse(staticDocument(), source: "cluster.json")
        #expect(config.mode == .static)
        #expect(config.seeds.isEmpty)
        #expect(config.nodes.count == 1)
        #expect(ClusterConfig(nodes: config.nodes).mode == .static)
        let explicit = try ClusterConfig.parse(staticDocument(extra: #""mode": "static""#), source: "cluster.json")
        #expect(explicit == config)
    }

    @Test("a cluster config loads with seeds, no nodes and every other default")
    func clusterConfigLoads() throws {
        let config = try ClusterConfig.parse(clusterDocument(), source: "cluster.json")
        #expect(config.mode == .cluster)
        #expect(config.seeds == Self.seedAddresses)
        #expect(config.nodes.isEmpty)
        #expect(config.pool == .defaults)
        #expect(config.timeouts == .defaults)
        #expect(config.auth == nil)
        #expect(config.database == 0)
        #expect(config.topology == .defaults)
        #expect(config.sections.isEmpty)
    }

    @Test("a cluster config reads every section")
    func clusterConfigWithEverySection() throws {
        let json = """
            {
              "mode": "cluster",
              "seeds": [{"host": "::1", "port": 7100}, {"port": 7101, "host": "redis-1.internal"}],
              "pool": {"connectionsPerNode": 4},
              "timeouts": {"commandMs": 200},
              "auth": {"passwordEnv": "REDIS_PW"},
              "topology": {"refreshIntervalMs": 1000, "maxRedirects": 3},
              "durability": {"replicas": 1, "timeoutMs": 50},
              "sale": {"callDeadlineMs": 1500, "allowEvictionPolicy": true}
            }
            """
        let config = try ClusterConfig.parse(json, source: "cluster.json")
        #expect(config.seeds == [NodeAddress(host: "::1", port: 7100), NodeAddress(host: "redis-1.internal", port: 7101)])
        #expect(config.pool.connectionsPerNode == 4)
        #expect(config.timeouts.command == .milliseconds(200))
        #expect(config.auth == AuthSettings(passwordEnv: "REDIS_PW"))
        #expect(config.topology == TopologySettings(refreshInterval: .seconds(1), maxRedirects: 3))
        // The sale layer's sections are kept as written, for it to read.
        #expect(config.section(named: "durability") == (try JSONValue.parse(#"{"replicas": 1, "timeoutMs": 50}"#)))
        #expect(config.section(named: "sale") == (try JSONValue.parse(#"{"callDeadlineMs": 1500, "allowEvictionPolicy": true}"#)))
    }

    @Test("a cluster config built in code validates without nodes or slot coverage")
    func programmaticClusterConfig() throws {
        let config = ClusterConfig(mode: .cluster, seeds: Self.seedAddresses, source: "code")
        #expect(config.validationProblems.isEmpty)
        #expect(try config.validated() == config)
    }

    @Test("mode names the allowed values")
    func unknownMode() {
        #expect(
            problems(parsing: #"{"mode": "clustr", "seeds": "# + threeSeeds + "}")
                == [#"cluster.json: mode: "clustr" is not one of static, cluster"#])
        #expect(problems(parsing: staticDocument(extra: #""mode": 1"#)) == ["cluster.json: mode: expected a string, got an integer"])
        #expect(
            problems(parsing: staticDocument(extra: #""mode": "Cluster""#)) == [
                #"cluster.json: mode: "Cluster" is not one of static, cluster"#
            ])
    }

    @Test("with an unreadable mode the rest is checked against the mode the content suggests")
    func unreadableModeGuessesFromContent() {
        #expect(
            problems(parsing: #"{"mode": "redis", "seeds": [{"host": "127.0.0.1", "port": 0}]}"#) == [
                #"cluster.json: mode: "redis" is not one of static, cluster"#,
                "cluster.json: seeds[0].port: 0 is out of range 1-65535",
            ])
        #expect(
            problems(parsing: #"{"mode": "redis", "nodes": [{"name": "solo", "host": "127.0.0.1", "port": 7000, "slots": [[0, 100]]}]}"#)
                == [
                    #"cluster.json: mode: "redis" is not one of static, cluster"#,
                    "cluster.json: slots 101-16383 are not assigned to any node",
                ])
        #expect(
            problems(parsing: staticDocument(extra: #""mode": null, "seeds": []"#)) == ["cluster.json: mode: expected a string, got null"])
    }

    @Test("cluster mode needs at least one seed")
    func missingSeeds() {
        #expect(
            problems(parsing: #"{"mode": "cluster"}"#) == [
                #"cluster.json: missing required field "seeds"; list one or more nodes of the Redis Cluster to discover it from, e.g. [{"host": "127.0.0.1", "port": 7100}]"#
            ])
        #expect(
            problems(parsing: clusterDocument(seeds: "[]")) == ["cluster.json: seeds: must list at least one node of the Redis Cluster"])
        #expect(
            problems(parsing: clusterDocument(seeds: #""127.0.0.1:7100""#))
                == [#"cluster.json: seeds: expected an array of {"host": ..., "port": ...} objects, got a string"#])
    }

    @Test("a seed port outside 1-65535")
    func seedPortOutOfRange() {
        let seeds = #"[{"host": "127.0.0.1", "port": 7100}, {"host": "127.0.0.1", "port": 70000}, {"host": "127.0.0.1", "port": 0}]"#
        #expect(
            problems(parsing: clusterDocument(seeds: seeds)) == [
                "cluster.json: seeds[1].port: 70000 is out of range 1-65535",
                "cluster.json: seeds[2].port: 0 is out of range 1-65535",
            ])
    }

    @Test("seed hosts follow the node host rules")
    func seedHosts() {
        let seeds =
            #"[{"host": "", "port": 7100}, {"host": "127.0.0.1:7101", "port": 7101}, {"host": "[::1]", "port": 7102}, {"host": "redis 1", "port": 7103}]"#
        #expect(
            problems(parsing: clusterDocument(seeds: seeds)) == [
                "cluster.json: seeds[0].host: must not be empty",
                #"cluster.json: seeds[1].host: "127.0.0.1:7101" looks like HOST:PORT; put the port in "port""#,
                #"cluster.json: seeds[2].host: write IPv6 addresses without brackets, e.g. "::1""#,
                #"cluster.json: seeds[3].host: "redis 1" contains whitespace"#,
            ])
    }

    @Test("a seed listed twice")
    func duplicateSeed() {
        let seeds = #"[{"host": "127.0.0.1", "port": 7100}, {"host": "127.0.0.1", "port": 7101}, {"host": "127.0.0.1", "port": 7100}]"#
        #expect(
            problems(parsing: clusterDocument(seeds: seeds)) == ["cluster.json: seeds[2]: address 127.0.0.1:7100 is listed in seeds[0] too"]
        )
    }

    @Test("seed entries must be objects with a host and a port and nothing else")
    func malformedSeeds() {
        let seeds =
            #"[{"hots": "127.0.0.1", "port": 7100}, "127.0.0.1:7101", {"host": 7, "port": "7102"}, {"host": "127.0.0.1", "port": 99999999999999999999}, {"host": "127.0.0.1", "port": 7104, "name": "a"}]"#
        #expect(
            problems(parsing: clusterDocument(seeds: seeds)) == [
                #"cluster.json: seeds[0]: unknown field "hots" (did you mean "host"?)"#,
                #"cluster.json: seeds[0]: missing required field "host""#,
                "cluster.json: seeds[1]: expected an object, got a string",
                "cluster.json: seeds[2].host: expected a string, got an integer",
                "cluster.json: seeds[2].port: expected an integer, got a string",
                "cluster.json: seeds[3].port: 99999999999999999999 does not fit in a 64-bit integer",
                #"cluster.json: seeds[4]: unknown field "name"; known fields are host, port"#,
            ])
        #expect(
            problems(parsing: clusterDocument(seeds: #"[{"host": "127.0.0.1"}]"#)) == [
                #"cluster.json: seeds[0]: missing required field "port""#
            ])
    }

    @Test("cluster mode rejects nodes, even an empty list")
    func nodesInClusterMode() {
        let nodes = #""nodes": [{"name": "solo", "host": "127.0.0.1", "port": 7000, "slots": [[0, 16383]]}]"#
        let message =
            #"cluster.json: nodes: not allowed when "mode" is "cluster", which discovers the nodes and their slots from "seeds"; remove "nodes""#
        #expect(problems(parsing: clusterDocument(extra: nodes)) == [message])
        #expect(problems(parsing: clusterDocument(extra: #""nodes": []"#)) == [message])
        #expect(
            problems(parsing: #"{"mode": "cluster", "nodes": []}"#) == [
                message,
                #"cluster.json: missing required field "seeds"; list one or more nodes of the Redis Cluster to discover it from, e.g. [{"host": "127.0.0.1", "port": 7100}]"#,
            ])
    }

    @Test("static mode rejects seeds")
    func seedsInStaticMode() {
        let message = #"cluster.json: seeds: only used when "mode" is "cluster"; add "mode": "cluster" or remove "seeds""#
        #expect(problems(parsing: staticDocument(extra: #""seeds": "# + threeSeeds)) == [message])
        #expect(problems(parsing: staticDocument(extra: #""mode": "static", "seeds": []"#)) == [message])
        #expect(
            problems(parsing: #"{"seeds": "# + threeSeeds + "}") == [
                #"cluster.json: missing required field "nodes"; list the Redis nodes and their slot ranges"#,
                message,
            ])
    }

    @Test("configs built in code get the same mode checks")
    func programmaticModeMismatch() {
        let node = NodeConfig(name: "solo", host: "127.0.0.1", port: 7000, slots: [0...16383])
        let staticWithSeeds = ClusterConfig(nodes: [node], seeds: Self.seedAddresses, source: "code")
        #expect(
            staticWithSeeds.validationProblems == [
                #"code: seeds: only used when "mode" is "cluster"; add "mode": "cluster" or remove "seeds""#
            ])

        let clusterWithNodes = ClusterConfig(mode: .cluster, nodes: [node], seeds: Self.seedAddresses, source: "code")
        #expect(
            clusterWithNodes.validationProblems == [
                #"code: nodes: not allowed when "mode" is "cluster", which discovers the nodes and their slots from "seeds"; remove "nodes""#
            ])

        let clusterWithoutSeeds = ClusterConfig(mode: .cluster, source: "code")
        #expect(clusterWithoutSeeds.validationProblems == ["code: seeds: must list at least one node of the Redis Cluster"])
        #expect(throws: ConfigError.self) { try clusterWithoutSeeds.validated() }

        let duplicate = ClusterConfig(mode: .cluster, seeds: [Self.seedAddresses[0], Self.seedAddresses[0]], source: "code")
        #expect(duplicate.validationProblems == ["code: seeds[1]: address 127.0.0.1:7100 is listed in seeds[0] too"])
    }

    @Test("the mode's description is its cluster.json spelling")
    func modeNames() {
        #expect(ClusterMode.allCases.map(\.description) == ["static", "cluster"])
        #expect(ClusterMode(rawValue: "cluster") == .cluster)
    }
}
