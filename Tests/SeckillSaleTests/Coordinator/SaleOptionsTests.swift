import SeckillRouting
import SeckillSale
import Testing

/// The sale options cluster.json sets.
@Suite("Sale options from cluster.json")
struct SaleOptionsTests {
    static func config(_ extra: String) throws -> ClusterConfig {
        let nodes = #""nodes": [{"name": "solo", "host": "127.0.0.1", "port": 7000, "slots": [[0, 16383]]}]"#
        return try ClusterConfig.parse("{\(nodes)\(extra.isEmpty ? "" : ", " + extra)}", source: "cluster.json")
    }

    @Test("defaults: eviction refused, no WAIT, a 3 s deadline")
    func defaults() throws {
        let options = SaleOptions(config: try Self.config(""))
        #expect(!options.allowEvictionPolicy)
        #expect(options.durabilityReplicas == 0)
        #expect(options.callDeadline == .seconds(3))
    }

    @Test("sale.allowEvictionPolicy, sale.callDeadlineMs and durability reach the coordinator's options")
    func fromConfig() throws {
        let options = SaleOptions(
            config: try Self.config(
                #""sale": {"callDeadlineMs": 1500, "allowEvictionPolicy": true}, "durability": {"replicas": 1, "timeoutMs": 50}"#))
        #expect(options.allowEvictionPolicy)
        #expect(options.callDeadline == .milliseconds(1500))
        #expect(options.durabilityReplicas == 1)
        #expect(options.durabilityTimeout == .milliseconds(50))
    }
}
