import Foundation
import SeckillTestSupport
import Testing

/// `--log-level`, accepted by every command.
@Suite("--log-level", .timeLimit(.minutes(1)))
struct LogLevelTests {
    @Test("an unknown level is a usage error naming the levels")
    func unknownLevel() async {
        let run = await CLIRun.run(["nodes", "--log-level", "loud"])
        #expect(run.status == 2)
        #expect(run.stderrLines == ["seckill: --log-level takes one of trace, debug, info, warning, error, got \"loud\""])
    }

    @Test("at info, a sale logs the start of sold-out shedding with its item on standard error; without the option nothing is logged")
    func saleLogsShedding() async throws {
        let server = try RedisServer()
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.text([.init(name: "solo", port: server.port, slots: [0...16383])]))
        let logged = await CLIRun.run([
            "sale", "--items", "2", "--stock", "1", "--users", "50", "--requests", "400", "--concurrency", "4",
            "--prefix", "logged", "--config", config, "--json", "--log-level=info",
        ])
        #expect(logged.status == 0, "\(logged.stderr)")
        let shedding = logged.stderrLines.filter { $0.contains(" info sold out: shedding purchases in process item=logged-") }
        #expect(!shedding.isEmpty, "\(logged.stderr)")
        #expect(logged.stderrLines.allSatisfy { $0.contains(" info ") || $0.contains(" warning ") || $0.contains(" error ") })

        let quiet = await CLIRun.run([
            "sale", "--items", "2", "--stock", "1", "--users", "50", "--requests", "400", "--concurrency", "4",
            "--prefix", "quiet", "--config", config, "--json",
        ])
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}
