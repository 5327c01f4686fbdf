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
        let options = try SaleOptions(config: try Self.config(""))
        #expect(!options.allowEvictionPolicy)
        #expect(options.durabilityReplicas == 0)
        #expect(options.callDeadline == .seconds(3))
    }

    @Test("sale.allowEvictionPolicy, sale.callDeadlineMs and durability reach the coordinator's options")
    func fromConfig() throws {
        let options = try SaleOptions(
            config: try Self.config(
                #""sale": {"callDeadlineMs": 1500, "allowEvictionPolicy": true}, "durability": {"replicas": 1, "timeoutMs": 50}"#))
        #expect(options.allowEvictionPolicy)
        #expect(options.callDeadline == .milliseconds(1500))
        #expect(options.durabilityReplicas == 1)
        #expect(options.durabilityTimeout == .milliseconds(50))
    }

    @Test("the field-by-field defaults are the settings' defaults, not a second set")
    func oneSetOfDefaults() {
        #expect(SaleOptions() == SaleOptions(sale: .defaults, durability: .off))
        var options = SaleOptions()
        options.callDeadline = .seconds(5)
        options.durabilityReplicas = 2
        #expect(options.sale == SaleSettings(callDeadline: .seconds(5)))
        #expect(options.durability == DurabilitySettings(replicas: 2))
    }

    @Test("a bad section is an error naming the file and the field")
    func badSection() throws {
        let config = try Self.config(#""durability": {"replicas": 1, "timeoutMs": 1000}, "sale": {"allowEvictionPolicy": "yes"}"#)
        let error = #expect(throws: ConfigError.self) { try SaleOptions(config: config) }
        #expect(
            error?.problems == [
                "cluster.json: sale.allowEvictionPolicy: expected true or false, got a string",
                "cluster.json: durability.timeoutMs: 1000 must be below timeouts.commandMs (1000): WAIT holds its connection for up to timeoutMs, so a WAIT that long times out the connection and leaves the purchase's outcome unknown; lower durability.timeoutMs or raise timeouts.commandMs",
            ])
    }
}
