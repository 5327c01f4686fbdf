import SeckillRouting
import SeckillSale
import Testing

@Suite("DurabilitySettings")
struct DurabilitySettingsTests {
    @Test("off by default: no replicas, 100 ms timeout")
    func defaults() throws {
        #expect(DurabilitySettings.off == DurabilitySettings(replicas: 0, timeout: .milliseconds(100)))
        #expect(!DurabilitySettings.off.isEnabled)
        #expect(try SaleConfig.parse(staticDocument(), source: "cluster.json").durability == .off)
        #expect(try SaleConfig.parse(clusterDocument(extra: #""durability": {}"#), source: "cluster.json").durability == .off)
    }

    @Test("fields are read; 0 and 16 replicas are the accepted bounds")
    func readsFields() throws {
        let one = try SaleConfig.parse(
            clusterDocument(extra: #""durability": {"replicas": 1, "timeoutMs": 250}"#), source: "cluster.json")
        #expect(one.durability == DurabilitySettings(replicas: 1, timeout: .milliseconds(250)))
        #expect(one.durability.isEnabled)
        let most = try SaleConfig.parse(staticDocument(extra: #""durability": {"replicas": 16}"#), source: "cluster.json")
        #expect(most.durability == DurabilitySettings(replicas: 16, timeout: .milliseconds(100)))
        let none = try SaleConfig.parse(staticDocument(extra: #""durability": {"replicas": 0, "timeoutMs": 5}"#), source: "cluster.json")
        #expect(!none.durability.isEnabled)
        #expect(none.durability.timeout == .milliseconds(5))
    }

    @Test("replicas must be from 0 to 16 and the timeout positive")
    func ranges() {
        #expect(
            problems(parsing: clusterDocument(extra: #""durability": {"replicas": 20}"#))
                == ["cluster.json: durability.replicas: must be from 0 to 16, got 20"])
        #expect(
            problems(parsing: clusterDocument(extra: #""durability": {"replicas": -1, "timeoutMs": 0}"#)) == [
                "cluster.json: durability.replicas: must be from 0 to 16, got -1",
                "cluster.json: durability.timeoutMs: must be positive, got 0",
            ])
        #expect(
            problems(parsing: staticDocument(extra: #""durability": {"replicas": 1, "timeoutMs": 86400001}"#))
                == ["cluster.json: durability.timeoutMs: must be at most 86400000 (one day), got 86400001"])
    }

    @Test("wrong types and unknown fields are named")
    func shapeErrors() {
        #expect(
            problems(parsing: clusterDocument(extra: #""durability": {"replicas": true, "timeoutMs": null}"#)) == [
                "cluster.json: durability.replicas: expected an integer, got a boolean",
                "cluster.json: durability.timeoutMs: expected an integer, got null",
            ])
        #expect(
            problems(parsing: clusterDocument(extra: #""durability": 1"#)) == [
                "cluster.json: durability: expected an object, got an integer"
            ])
        #expect(
            problems(parsing: clusterDocument(extra: #""durability": {"replica": 1, "timeout": 10, "fsync": true}"#)) == [
                #"cluster.json: durability: unknown field "replica" (did you mean "replicas"?)"#,
                #"cluster.json: durability: unknown field "timeout" (did you mean "timeoutMs"?)"#,
                #"cluster.json: durability: unknown field "fsync"; known fields are replicas, timeoutMs"#,
            ])
    }

    @Test("configs built in code are checked the same way")
    func programmatic() {
        let node = NodeConfig(name: "solo", host: "127.0.0.1", port: 7000, slots: [0...16383])
        let config = SaleConfig(
            cluster: ClusterConfig(nodes: [node], source: "code"), durability: DurabilitySettings(replicas: 17, timeout: .milliseconds(-1)))
        #expect(
            config.validationProblems == [
                "code: durability.replicas: must be from 0 to 16, got 17",
                "code: durability.timeoutMs: must be positive, got -1",
            ])
    }
}
