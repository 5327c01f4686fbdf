import SeckillRouting
import SeckillSale
import Testing

@Suite("SaleSettings")
struct SaleSettingsTests {
    @Test("defaults give a call 3000 ms and refuse evicting nodes")
    func defaults() throws {
        #expect(SaleSettings.defaults == SaleSettings(callDeadline: .milliseconds(3000), allowEvictionPolicy: false))
        #expect(try SaleConfig.parse(staticDocument(), source: "cluster.json").sale == .defaults)
        #expect(try SaleConfig.parse(clusterDocument(extra: #""sale": {}"#), source: "cluster.json").sale == .defaults)
    }

    @Test("fields are read in either mode")
    func readsFields() throws {
        let both = try SaleConfig.parse(
            staticDocument(extra: #""sale": {"callDeadlineMs": 1750, "allowEvictionPolicy": true}"#), source: "cluster.json")
        #expect(both.sale == SaleSettings(callDeadline: .milliseconds(1750), allowEvictionPolicy: true))
        let overrideOnly = try SaleConfig.parse(
            clusterDocument(extra: #""sale": {"allowEvictionPolicy": false}"#), source: "cluster.json")
        #expect(overrideOnly.sale == SaleSettings(callDeadline: .seconds(3), allowEvictionPolicy: false))
    }

    @Test("the deadline must be positive and at most a day")
    func ranges() {
        #expect(
            problems(parsing: clusterDocument(extra: #""sale": {"callDeadlineMs": -5}"#)) == [
                "cluster.json: sale.callDeadlineMs: must be positive, got -5"
            ])
        #expect(
            problems(parsing: staticDocument(extra: #""sale": {"callDeadlineMs": 86400001}"#)) == [
                "cluster.json: sale.callDeadlineMs: must be at most 86400000 (one day), got 86400001"
            ])
    }

    @Test("a file that still sets requestTtlSeconds is told the field is gone and why")
    func removedRequestTTL() {
        let removed =
            "cluster.json: sale.requestTtlSeconds: no longer used: request records now live as long as their item; remove the field"
        #expect(problems(parsing: clusterDocument(extra: #""sale": {"requestTtlSeconds": 86400}"#)) == [removed])
        // Reported once beside the other fields' problems, whatever its value.
        #expect(
            problems(parsing: staticDocument(extra: #""sale": {"requestTtlSeconds": "1d", "callDeadlineMs": 0}"#)) == [
                removed,
                "cluster.json: sale.callDeadlineMs: must be positive, got 0",
            ])
    }

    @Test("wrong types and unknown fields are named")
    func shapeErrors() {
        #expect(
            problems(parsing: clusterDocument(extra: #""sale": {"callDeadlineMs": "3s", "allowEvictionPolicy": "yes"}"#)) == [
                "cluster.json: sale.callDeadlineMs: expected an integer, got a string",
                "cluster.json: sale.allowEvictionPolicy: expected true or false, got a string",
            ])
        #expect(
            problems(parsing: staticDocument(extra: #""sale": {"allowEvictionPolicy": 1}"#)) == [
                "cluster.json: sale.allowEvictionPolicy: expected true or false, got an integer"
            ])
        #expect(problems(parsing: clusterDocument(extra: #""sale": "fast""#)) == ["cluster.json: sale: expected an object, got a string"])
        #expect(
            problems(parsing: clusterDocument(extra: #""sale": {"allowEvictionPolicies": true, "deadline": 100}"#)) == [
                #"cluster.json: sale: unknown field "allowEvictionPolicies" (did you mean "allowEvictionPolicy"?)"#,
                #"cluster.json: sale: unknown field "deadline"; known fields are callDeadlineMs, allowEvictionPolicy"#,
            ])
    }

    @Test("configs built in code are checked the same way")
    func programmatic() {
        let config = SaleConfig(
            cluster: ClusterConfig(mode: .cluster, seeds: [NodeAddress(host: "::1", port: 7100)], source: "code"),
            sale: SaleSettings(callDeadline: .zero))
        #expect(
            config.validationProblems == [
                "code: sale.callDeadlineMs: must be positive, got 0"
            ])
    }
}
