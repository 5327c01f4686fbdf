import Foundation
import SeckillTestSupport
import Testing

/// `--metrics-file` on `seckill sale` and `seckill bench`, read back by an independent parser.
@Suite("--metrics-file", .timeLimit(.minutes(1)))
struct MetricsFileTests {
    @Test("a sale's metrics file is valid exposition text whose counts match the sale's report")
    func saleMetrics() async throws {
        let servers = try (0..<2).map { _ in try RedisServer() }
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "cluster.json",
            ClusterFile.text([
                .init(name: "node-a", port: servers[0].port, slots: [0...8191]),
                .init(name: "node-b", port: servers[1].port, slots: [8192...16383]),
            ]))
        let path = directory.file("metrics.prom")
        let run = await CLIRun.run([
            "sale", "--items", "20", "--stock", "5", "--users", "200", "--requests", "3000", "--concurrency", "16",
            "--prefix", "metrics", "--metrics-file", path, "--config", config, "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try run.jsonObject()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let metrics = try PrometheusText(text)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        // The coordinator's counts are the report's.
        for kind in ["purchased", "soldOut", "limitReached"] {
            #expect(metrics.value("seckill_purchase_attempts_total", ["result": kind]) == report.number(kind), "\(kind)")
        }
        #expect(metrics.value("seckill_shed_answers_total") == report.number("shedAnswers"))
        #expect(metrics.value("seckill_outcome_unknown_total") == 0)
        // Every node answered commands, and its latency histogram counts each of them.
        var commands = 0.0
        for node in ["node-a", "node-b"] {
            let count = try #require(metrics.value("seckill_node_commands_total", ["node": node]))
            #expect(count > 0)
            #expect(metrics.value("seckill_node_latency_seconds_count", ["node": node]) == count)
            #expect(metrics.value("seckill_node_in_flight", ["node": node]) == 0)
            commands += count
        }
        let sentToRedis = (report.number("requests") ?? 0) - (report.number("shedAnswers") ?? 0)
        #expect(commands >= sentToRedis, "every purchase sent to Redis is a command of some node")
    }

    @Test("a metrics file that cannot be written is a clear error before the run")
    func unwritable() async throws {
        let server = try RedisServer()
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.text([.init(name: "solo", port: server.port, slots: [0...16383])]))
        let run = await CLIRun.run([
            "bench", "--items", "2", "--requests", "100", "--metrics-file", "/nonexistent-dir/m.prom", "--config", config,
        ])
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.contains("cannot write the metrics file /nonexistent-dir/m.prom"), "\(run.stderr)")
    }
}
