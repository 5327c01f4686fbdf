import Foundation
import SeckillTestSupport
import Testing

/// A smoke run of `seckill bench` and the shedding path, so the harness keeps working in CI.
/// No timing is asserted: only that the report is complete and consistent.
@Suite("seckill bench smoke run against real Redis", .timeLimit(.minutes(1)))
struct BenchCommandTests {
    let directory: TemporaryDirectory
    let server: RedisServer
    let config: String

    init() throws {
        directory = try TemporaryDirectory()
        server = try RedisServer()
        config = try directory.write("cluster.json", ClusterFile.text([.init(name: "bench", port: server.port, slots: [0...16383])]))
    }

    @Test("a short bench reports throughput, latency, per-node requests and peak memory")
    func smoke() async throws {
        let run = await CLIRun.run([
            "bench", "--config", config, "--items", "20", "--requests", "3000", "--concurrency", "50", "--warmup", "300", "--prefix",
            "smoke", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.jsonObject()
        #expect(object.number("requests") == 3000)
        #expect(object.number("errors") == 0)
        #expect(try #require(object.number("throughput")) > 0)
        #expect(try #require(object.number("peakRSSBytes")) > 1_000_000)
        let latency = try #require(object["latencyMs"] as? [String: Any])
        let p50 = try #require(latency.number("p50"))
        let p999 = try #require(latency.number("p999"))
        let max = try #require(latency.number("max"))
        #expect(p50 <= p999 && p999 <= max)
        let perNode = try #require(object["perNode"] as? [String: Any])
        #expect(perNode.number("bench") == 3000)
        let results = try #require(object["results"] as? [String: Any])
        // Stock covers every attempt and there is no per-user limit: everything is bought.
        #expect(results.number("purchased") == 3000)
        #expect(try server.cli("HGET", "seckill:{smoke-0}", "total").contains("3300"))
    }

    @Test("at the end of a sale, sold-out answers are shed and the counts stay exact")
    func endOfSale() async throws {
        let run = await CLIRun.run([
            "bench", "--config", config, "--items", "10", "--stock", "5", "--requests", "4000", "--concurrency", "50", "--warmup", "0",
            "--prefix", "gone", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.jsonObject()
        let results = try #require(object["results"] as? [String: Any])
        #expect(results.number("purchased") == 50)
        #expect(results.number("soldOut") == 3950)
        var sold = 0
        for item in 0..<10 {
            sold += Int(try server.cli("HGET", "seckill:{gone-\(item)}", "sold").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        #expect(sold == 50)
    }
}
