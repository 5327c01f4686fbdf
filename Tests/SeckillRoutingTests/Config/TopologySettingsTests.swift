import SeckillRouting
import Testing

@Suite("TopologySettings")
struct TopologySettingsTests {
    @Test("defaults are a 5000 ms refresh and 5 redirects")
    func defaults() throws {
        #expect(TopologySettings.defaults.refreshInterval == .milliseconds(5000))
        #expect(TopologySettings.defaults.maxRedirects == 5)
        #expect(try ClusterConfig.parse(clusterDocument(), source: "cluster.json").topology == .defaults)
        #expect(try ClusterConfig.parse(clusterDocument(extra: #""topology": {}"#), source: "cluster.json").topology == .defaults)
    }

    @Test("fields are read in cluster mode and accepted in static mode")
    func readsFields() throws {
        let cluster = try ClusterConfig.parse(
            clusterDocument(extra: #""topology": {"refreshIntervalMs": 250, "maxRedirects": 16}"#), source: "cluster.json")
        #expect(cluster.topology == TopologySettings(refreshInterval: .milliseconds(250), maxRedirects: 16))
        let partial = try ClusterConfig.parse(staticDocument(extra: #""topology": {"maxRedirects": 1}"#), source: "cluster.json")
        #expect(partial.topology == TopologySettings(refreshInterval: .seconds(5), maxRedirects: 1))
    }

    @Test("both fields must be positive and the interval at most one day")
    func positive() {
        #expect(
            problems(parsing: clusterDocument(extra: #""topology": {"refreshIntervalMs": 0, "maxRedirects": 0}"#)) == [
                "cluster.json: topology.refreshIntervalMs: must be positive, got 0",
                "cluster.json: topology.maxRedirects: must be positive, got 0",
            ])
        #expect(
            problems(parsing: staticDocument(extra: #""topology": {"refreshIntervalMs": 86400001, "maxRedirects": -2}"#)) == [
                "cluster.json: topology.refreshIntervalMs: must be at most 86400000 (one day), got 86400001",
                "cluster.json: topology.maxRedirects: must be positive, got -2",
            ])
    }

    @Test("wrong types and unknown fields are named")
    func shapeErrors() {
        #expect(
            problems(parsing: clusterDocument(extra: #""topology": {"refreshIntervalMs": "5s", "maxRedirects": 1.5}"#)) == [
                "cluster.json: topology.refreshIntervalMs: expected an integer, got a string",
                "cluster.json: topology.maxRedirects: expected an integer, got 1.5",
            ])
        #expect(
            problems(parsing: clusterDocument(extra: #""topology": [5000]"#)) == [
                "cluster.json: topology: expected an object, got an array"
            ])
        #expect(
            problems(parsing: clusterDocument(extra: #""topology": {"maxRedirect": 3, "refreshMs": 100}"#)) == [
                #"cluster.json: topology: unknown field "maxRedirect" (did you mean "maxRedirects"?)"#,
                #"cluster.json: topology: unknown field "refreshMs"; known fields are refreshIntervalMs, maxRedirects"#,
            ])
        #expect(
            problems(parsing: clusterDocument(extra: #""topolgy": {}"#)) == [
                #"cluster.json: unknown field "topolgy" (did you mean "topology"?)"#
            ])
    }

    @Test("configs built in code are checked the same way")
    func programmatic() {
        var config = ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "localhost", port: 7100)], source: "code")
        config.topology = TopologySettings(refreshInterval: .zero, maxRedirects: 0)
        #expect(
            config.validationProblems == [
                "code: topology.refreshIntervalMs: must be positive, got 0",
                "code: topology.maxRedirects: must be positive, got 0",
            ])
    }
}
