import SeckillRouting
import Testing

/// The routing layer accepts the sections the layers above own and keeps them unread.
@Suite("ClusterConfig sections of other layers")
struct ClusterConfigSectionsTests {
    @Test("sale and durability are known names; any other top-level field is still rejected, with a suggestion")
    func knownNames() throws {
        #expect(ClusterConfig.ownedSectionNames == ["durability", "sale"])
        let config = try ClusterConfig.parse(staticDocument(extra: #""sale": 7, "durability": [true]"#), source: "cluster.json")
        #expect(config.sections == ["sale": try JSONValue.parse("7"), "durability": try JSONValue.parse("[true]")])
        #expect(
            problems(parsing: staticDocument(extra: #""sales": {}, "limits": {}"#)) == [
                #"cluster.json: unknown field "sales" (did you mean "sale"?)"#,
                #"cluster.json: unknown field "limits"; known fields are mode, nodes, seeds, pool, timeouts, auth, database, topology, durability, sale"#,
            ])
    }

    @Test("a config built in code may only carry sections some layer owns")
    func unknownSectionInCode() {
        let config = ClusterConfig(
            mode: .cluster, seeds: [NodeAddress(host: "127.0.0.1", port: 7100)], sections: ["orders": .null], source: "code")
        #expect(config.validationProblems == [#"code: unknown section "orders"; known sections of other layers are durability, sale"#])
    }

    @Test("connections per node: pool.connectionsPerNode, else the default a layer above may raise")
    func defaultConnections() {
        var config = ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "127.0.0.1", port: 7100)], source: "code")
        #expect(config.connectionsPerNode == 1)
        config.defaultConnectionsPerNode = 4
        #expect(config.connectionsPerNode == 4)
        #expect(config.poolOptions.connections == 4)
        config.pool.connectionsPerNode = 2
        #expect(config.connectionsPerNode == 2)
        config.defaultConnectionsPerNode = 0
        #expect(config.validationProblems == ["code: defaultConnectionsPerNode: must be positive, got 0"])
    }

    @Test("read() collects the problems instead of throwing, and says which fields failed")
    func readCollects() throws {
        let reading = try ClusterConfig.read(
            Array(staticDocument(extra: #""timeouts": {"commandMs": "1s", "connectMs": 0}, "sale": {"x": 1}"#).utf8), source: "cluster.json"
        )
        #expect(
            reading.problems == [
                "cluster.json: timeouts.commandMs: expected an integer, got a string",
                "cluster.json: timeouts.connectMs: must be positive, got 0",
            ])
        #expect(reading.hasFailed("timeouts.commandMs"))
        #expect(reading.hasFailed("timeouts.connectMs"))
        #expect(!reading.hasFailed("pool.maxInFlightPerNode"))
        #expect(reading.config.section(named: "sale") == (try JSONValue.parse(#"{"x": 1}"#)))
        #expect(throws: ConfigError.self) { try reading.validated() }

        let wholeSection = try ClusterConfig.read(Array(staticDocument(extra: #""timeouts": 5"#).utf8), source: "cluster.json")
        #expect(wholeSection.hasFailed("timeouts.commandMs"))
        #expect(throws: ConfigError.self) { try ClusterConfig.read(Array("{".utf8), source: "cluster.json") }
    }
}
