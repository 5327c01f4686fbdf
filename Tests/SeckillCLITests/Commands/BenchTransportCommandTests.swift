import Foundation
import SeckillTestSupport
import Testing

/// `seckill bench-transport` against a real redis-server, kept small so it stays fast.
@Suite("seckill bench-transport against real Redis", .timeLimit(.minutes(1)))
struct BenchTransportCommandTests {
    let directory: TemporaryDirectory
    let server: RedisServer
    let config: String

    init() throws {
        directory = try TemporaryDirectory()
        server = try RedisServer()
        config = try directory.write("cluster.json", ClusterFile.text([.init(name: "bench", port: server.port, slots: [0...16383])]))
    }

    @Test("2,000 PINGs at concurrency 50: exit 0, JSON with throughput > 0 and no errors")
    func pingJSON() async throws {
        let run = await CLIRun.run(["bench-transport", "--config", config, "--requests", "2000", "--concurrency", "50", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.jsonObject()
        #expect(object.string("node") == "bench")
        #expect(object.string("command") == "PING")
        #expect(object.number("requests") == 2000)
        #expect(object.number("concurrency") == 50)
        #expect(object.number("errors") == 0)
        #expect(try #require(object.number("throughput")) > 0)
        let latency = try #require(object["latencyMs"] as? [String: Any])
        let p50 = try #require(latency.number("p50"))
        let p99 = try #require(latency.number("p99"))
        let max = try #require(latency.number("max"))
        #expect(p50 <= p99 && p99 <= max)
    }

    @Test("--command INCR really increments the counter once per request")
    func incrCounts() async throws {
        let run = await CLIRun.run(["bench-transport", "--config", config, "--requests", "777", "--concurrency", "10", "--command", "incr"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("INCR x 777 through bench at concurrency 10: "))
        #expect(run.stdout.contains(", 0 errors"))
        #expect(try server.cli("GET", "seckill:bench:counter").trimmingCharacters(in: .whitespacesAndNewlines) == "777")
    }

    @Test("more callers than requests still sends exactly the requests")
    func moreCallersThanRequests() async throws {
        let run = await CLIRun.run([
            "bench-transport", "--config", config, "--requests", "5", "--concurrency", "20", "--command", "INCR", "--json",
        ])
        #expect(run.status == 0)
        #expect(try run.jsonObject().number("requests") == 5)
        #expect(try server.cli("GET", "seckill:bench:counter").trimmingCharacters(in: .whitespacesAndNewlines) == "5")
    }

    @Test("an unreachable node: exit 1, one line naming it")
    func unreachable() async {
        server.stop()
        let run = await CLIRun.run(["bench-transport", "--config", config, "--requests", "10"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: node bench (127.0.0.1:\(server.port)) unreachable: "))
    }

    @Test(
        "an unknown --node or --command is a usage error, exit 2",
        arguments: [
            (["--node", "nope"], "no node named nope"),
            (["--command", "GET"], "--command must be PING or INCR, got GET"),
            (["--concurrency", "0"], "--concurrency must be an integer from 1"),
        ])
    func usageErrors(extra: [String], message: String) async {
        let run = await CLIRun.run(["bench-transport", "--config", config, "--requests", "10"] + extra)
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }
}
