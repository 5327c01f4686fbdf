import SeckillRouting
import SeckillSale
import Testing

/// Checks between the sale layer's sections and the routing layer's timeouts: timeouts that
/// only make sense together.
@Suite("Config cross-checks")
struct ConfigCrossCheckTests {
    static let waitTooLong =
        "cluster.json: durability.timeoutMs: 1000 must be below timeouts.commandMs (1000): WAIT holds its connection for up to timeoutMs, so a WAIT that long times out the connection and leaves the purchase's outcome unknown; lower durability.timeoutMs or raise timeouts.commandMs"

    @Test("durability.timeoutMs must be below timeouts.commandMs when WAIT is sent")
    func waitBelowCommandTimeout() throws {
        #expect(problems(parsing: clusterDocument(extra: #""durability": {"replicas": 1, "timeoutMs": 1000}"#)) == [Self.waitTooLong])
        #expect(
            problems(parsing: staticDocument(extra: #""timeouts": {"commandMs": 200}, "durability": {"replicas": 2, "timeoutMs": 5000}"#))
                == [
                    "cluster.json: durability.timeoutMs: 5000 must be below timeouts.commandMs (200): WAIT holds its connection for up to timeoutMs, so a WAIT that long times out the connection and leaves the purchase's outcome unknown; lower durability.timeoutMs or raise timeouts.commandMs"
                ])
        let below = try SaleConfig.parse(
            clusterDocument(extra: #""durability": {"replicas": 1, "timeoutMs": 999}"#), source: "cluster.json")
        #expect(below.durability.timeout == .milliseconds(999))
    }

    @Test("without replicas no WAIT is sent, so its timeout is not compared")
    func noWaitNoCheck() throws {
        let config = try SaleConfig.parse(
            staticDocument(
                extra: #""timeouts": {"commandMs": 50}, "durability": {"replicas": 0, "timeoutMs": 100}, "sale": {"callDeadlineMs": 50}"#),
            source: "cluster.json")
        #expect(!config.durability.isEnabled)
    }

    @Test("sale.callDeadlineMs must be at least timeouts.commandMs")
    func deadlineCoversOneCommand() throws {
        #expect(
            problems(parsing: clusterDocument(extra: #""timeouts": {"commandMs": 2000}, "sale": {"callDeadlineMs": 1999}"#)) == [
                "cluster.json: sale.callDeadlineMs: 1999 is below timeouts.commandMs (2000): one attempt may wait that long for its reply, so a call could not keep its deadline; raise sale.callDeadlineMs or lower timeouts.commandMs"
            ])
        // The default deadline (3000 ms) counts too.
        #expect(
            problems(parsing: staticDocument(extra: #""timeouts": {"commandMs": 3001}"#)) == [
                "cluster.json: sale.callDeadlineMs: 3000 is below timeouts.commandMs (3001): one attempt may wait that long for its reply, so a call could not keep its deadline; raise sale.callDeadlineMs or lower timeouts.commandMs"
            ])
        let equal = try SaleConfig.parse(
            clusterDocument(extra: #""timeouts": {"commandMs": 2000}, "sale": {"callDeadlineMs": 2000}"#), source: "cluster.json")
        #expect(equal.sale.callDeadline == equal.cluster.timeouts.command)
    }

    @Test("a field that is already wrong is reported once, not compared")
    func wrongFieldsAreNotCompared() {
        #expect(
            problems(
                parsing: clusterDocument(
                    extra:
                        #""timeouts": {"commandMs": "1s"}, "durability": {"replicas": 1, "timeoutMs": 5000}, "sale": {"callDeadlineMs": 10}"#
                )) == [
                    "cluster.json: timeouts.commandMs: expected an integer, got a string"
                ])
        #expect(
            problems(parsing: clusterDocument(extra: #""timeouts": {"commandMs": 0}, "durability": {"replicas": 1, "timeoutMs": 5000}"#))
                == [
                    "cluster.json: timeouts.commandMs: must be positive, got 0"
                ])
        #expect(
            problems(
                parsing: staticDocument(
                    extra:
                        #""timeouts": {"commandMs": 100}, "durability": {"replicas": 1, "timeoutMs": null}, "sale": {"callDeadlineMs": -1}"#
                )) == [
                    "cluster.json: durability.timeoutMs: expected an integer, got null",
                    "cluster.json: sale.callDeadlineMs: must be positive, got -1",
                ])
    }

    @Test("configs built in code are cross-checked the same way, naming their source")
    func programmatic() {
        let config = SaleConfig(
            cluster: ClusterConfig(
                mode: .cluster, seeds: [NodeAddress(host: "127.0.0.1", port: 7100)],
                timeouts: TimeoutSettings(command: .milliseconds(500)), source: "code"),
            sale: SaleSettings(callDeadline: .milliseconds(400)),
            durability: DurabilitySettings(replicas: 1, timeout: .milliseconds(500)))
        #expect(
            config.validationProblems == [
                "code: durability.timeoutMs: 500 must be below timeouts.commandMs (500): WAIT holds its connection for up to timeoutMs, so a WAIT that long times out the connection and leaves the purchase's outcome unknown; lower durability.timeoutMs or raise timeouts.commandMs",
                "code: sale.callDeadlineMs: 400 is below timeouts.commandMs (500): one attempt may wait that long for its reply, so a call could not keep its deadline; raise sale.callDeadlineMs or lower timeouts.commandMs",
            ])
        #expect(throws: ConfigError.self) { try config.validated() }
    }
}
