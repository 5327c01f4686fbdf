internal import Foundation
import SeckillRouting
import SeckillSale
import Testing

/// The sale layer owns `sale` and `durability`: the routing layer keeps them unread, and
/// `SaleConfig` decodes, defaults and validates them.
@Suite("SaleConfig")
struct SaleConfigTests {
    @Test("the routing layer accepts sections it does not interpret; the sale layer rejects their mistakes")
    func layersSplitTheFile() throws {
        let json = staticDocument(extra: #""durability": {"replicas": "two"}, "sale": {"callDeadlineMs": 2000, "speed": 9}"#)
        let routing = try ClusterConfig.parse(json, source: "cluster.json")
        #expect(routing.section(named: "durability") == (try JSONValue.parse(#"{"replicas": "two"}"#)))
        #expect(routing.section(named: "sale") == (try JSONValue.parse(#"{"callDeadlineMs": 2000, "speed": 9}"#)))
        #expect(
            problems(parsing: json) == [
                "cluster.json: durability.replicas: expected an integer, got a string",
                #"cluster.json: sale: unknown field "speed"; known fields are callDeadlineMs, allowEvictionPolicy"#,
            ])
    }

    @Test("a decode error from a file names the file and the field")
    func fileErrorsNameFileAndField() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seckill-sale-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cluster.json").path
        try Data(staticDocument(extra: #""sale": {"callDeadlineMs": 2.5}"#).utf8).write(to: URL(fileURLWithPath: path))

        let expected = ["\(path): sale.callDeadlineMs: expected an integer, got 2.5"]
        let error = #expect(throws: ConfigError.self) { try SaleConfig.load(path: path) }
        #expect(error?.code == .invalid)
        #expect(error?.problems == expected)
        // The same through the options of a config the routing layer loaded alone.
        let routing = try ClusterConfig.load(path: path)
        let optionsError = #expect(throws: ConfigError.self) { try SaleOptions(config: routing) }
        #expect(optionsError?.problems == expected)
    }

    @Test("both layers' problems are reported at once, the routing layer's first")
    func bothLayersAtOnce() {
        #expect(
            problems(parsing: staticDocument(extra: #""pool": {"maxInFlightPerNode": 0}, "sale": {"callDeadlineMs": 0}"#)) == [
                "cluster.json: pool.maxInFlightPerNode: must be positive, got 0",
                "cluster.json: sale.callDeadlineMs: must be positive, got 0",
            ])
        // A misspelt section is still caught at the top level, with a suggestion.
        #expect(
            problems(parsing: staticDocument(extra: #""durabilty": {"replicas": 1}"#)) == [
                #"cluster.json: unknown field "durabilty" (did you mean "durability"?)"#
            ])
    }

    @Test("settings built in code are written into the sections, and the rendered file reads back equal")
    func codeBuiltRoundTrips() throws {
        let cluster = ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "127.0.0.1", port: 7100)], source: "code.json")
        let config = try SaleConfig(
            cluster: cluster, sale: SaleSettings(callDeadline: .milliseconds(2500)),
            durability: DurabilitySettings(replicas: 1, timeout: .milliseconds(100))
        ).validated()
        let text = config.cluster.render()
        #expect(text.contains(#""durability": {"replicas": 1, "timeoutMs": 100},"#))
        #expect(text.contains(#""sale": {"callDeadlineMs": 2500, "allowEvictionPolicy": false}"#))
        #expect(try SaleConfig.parse(text, source: "code.json") == config)
        // Default settings write no section.
        #expect(SaleConfig(cluster: cluster).cluster.sections.isEmpty)
        #expect(try SaleConfig.parse(cluster.render(), source: "code.json") == SaleConfig(cluster: cluster))
    }

    @Test("durability raises the default connections per node; pool.connectionsPerNode still wins")
    func durabilitySizesThePool() throws {
        let waiting = staticDocument(extra: #""durability": {"replicas": 1}"#)
        let durable = try SaleConfig.parse(waiting, source: "cluster.json").cluster
        #expect(durable.connectionsPerNode == 4)
        #expect(durable.poolOptions.connections == 4)
        // The routing layer alone does not know what durability means.
        #expect(try ClusterConfig.parse(waiting, source: "cluster.json").connectionsPerNode == 1)
        #expect(try SaleConfig.parse(staticDocument(), source: "cluster.json").cluster.connectionsPerNode == 1)
        let explicit = try SaleConfig.parse(
            staticDocument(extra: #""pool": {"connectionsPerNode": 2}, "durability": {"replicas": 1}"#), source: "cluster.json"
        ).cluster
        #expect(explicit.connectionsPerNode == 2)
        // The raised default is not a setting of the file: it is not written back.
        #expect(explicit.render().contains(#""connectionsPerNode": 2"#))
        #expect(!durable.render().contains("connectionsPerNode"))
    }

    @Test("a routing config that already has a problem is reported, with the sale layer's own")
    func decodingARoutingConfig() {
        let node = NodeConfig(name: "solo", host: "127.0.0.1", port: 0, slots: [0...16383])
        let config = ClusterConfig(nodes: [node], sections: ["sale": .string("fast")], source: "code")
        let error = #expect(throws: ConfigError.self) { try SaleConfig(decoding: config) }
        #expect(
            error?.problems == [
                "code: nodes[0].port: 0 is out of range 1-65535",
                "code: sale: expected an object, got a string",
            ])
    }
}
