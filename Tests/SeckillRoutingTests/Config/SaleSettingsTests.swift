import SeckillRouting
import Testing

@Suite("SaleSettings")
struct SaleSettingsTests {
    @Test("defaults keep request records a day and give a call 3000 ms")
    func defaults() throws {
        #expect(SaleSettings.defaults == SaleSettings(requestTTL: .seconds(86_400), callDeadline: .milliseconds(3000)))
        #expect(try ClusterConfig.parse(staticDocument(), source: "cluster.json").sale == .defaults)
        #expect(try ClusterConfig.parse(clusterDocument(extra: #""sale": {}"#), source: "cluster.json").sale == .defaults)
    }

    @Test("fields are read in either mode")
    func readsFields() throws {
        let both = try ClusterConfig.parse(staticDocument(extra: #""sale": {"requestTtlSeconds": 600, "callDeadlineMs": 750}"#), source: "cluster.json")
        #expect(both.sale == SaleSettings(requestTTL: .seconds(600), callDeadline: .milliseconds(750)))
        let ttlOnly = try ClusterConfig.parse(clusterDocument(extra: #""sale": {"requestTtlSeconds": 31536000}"#), source: "cluster.json")
        #expect(ttlOnly.sale == SaleSettings(requestTTL: .seconds(31_536_000), callDeadline: .seconds(3)))
    }

    @Test("both fields must be positive; the TTL at most a year and the deadline at most a day")
    func ranges() {
        #expect(problems(parsing: clusterDocument(extra: #""sale": {"requestTtlSeconds": 0, "callDeadlineMs": -5}"#)) == [
            "cluster.json: sale.requestTtlSeconds: must be positive, got 0",
            "cluster.json: sale.callDeadlineMs: must be positive, got -5",
        ])
        #expect(problems(parsing: staticDocument(extra: #""sale": {"requestTtlSeconds": 31536001, "callDeadlineMs": 86400001}"#)) == [
            "cluster.json: sale.requestTtlSeconds: must be at most 31536000 (one year), got 31536001",
            "cluster.json: sale.callDeadlineMs: must be at most 86400000 (one day), got 86400001",
        ])
    }

    @Test("wrong types and unknown fields are named")
    func shapeErrors() {
        #expect(problems(parsing: clusterDocument(extra: #""sale": {"requestTtlSeconds": 1e3, "callDeadlineMs": "3s"}"#)) == [
            "cluster.json: sale.requestTtlSeconds: expected an integer, got 1e3",
            "cluster.json: sale.callDeadlineMs: expected an integer, got a string",
        ])
        #expect(problems(parsing: clusterDocument(extra: #""sale": "fast""#)) == ["cluster.json: sale: expected an object, got a string"])
        #expect(problems(parsing: clusterDocument(extra: #""sale": {"requestTTLSeconds": 60, "deadline": 100}"#)) == [
            #"cluster.json: sale: unknown field "requestTTLSeconds" (did you mean "requestTtlSeconds"?)"#,
            #"cluster.json: sale: unknown field "deadline"; known fields are requestTtlSeconds, callDeadlineMs"#,
        ])
    }

    @Test("configs built in code are checked the same way")
    func programmatic() {
        let config = ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "::1", port: 7100)], sale: SaleSettings(requestTTL: .seconds(-3), callDeadline: .zero), source: "code")
        #expect(config.validationProblems == [
            "code: sale.requestTtlSeconds: must be positive, got -3",
            "code: sale.callDeadlineMs: must be positive, got 0",
        ])
    }
}
