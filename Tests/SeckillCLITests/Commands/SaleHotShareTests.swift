import Foundation
import SeckillRouting
import SeckillTestSupport
import Testing

/// `seckill sale --hot-share X` and each node's share of attempts in the report.
@Suite("seckill sale --hot-share", .timeLimit(.minutes(1)))
struct SaleHotShareTests {
    @Test("the hot item draws its share, and perNode gives each node's requests and share")
    func hotShare() async throws {
        let servers = try (0..<3).map { _ in try RedisServer() }
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.threeNodes(ports: servers.map(\.port)))
        let prefix = "hot-\(UUID().uuidString.prefix(8).lowercased())"
        let run = await CLIRun.run([
            "sale", "--items", "30", "--stock", "100000", "--limit", "0", "--users", "500", "--requests", "6000",
            "--concurrency", "16", "--hot-share", "0.6", "--prefix", prefix, "--config", config, "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try run.jsonObject()
        let perNode = try #require(report["perNode"] as? [String: [String: Any]])
        #expect(Set(perNode.keys) == ["node-a", "node-b", "node-c"])
        let shares = perNode.mapValues { $0.number("share") ?? -1 }
        let requests = perNode.mapValues { $0.number("requests") ?? -1 }
        #expect(requests.values.reduce(0, +) == 6000)
        #expect(abs(shares.values.reduce(0, +) - 1) < 1e-3)
        for (node, share) in shares { #expect(abs(share - requests[node]! / 6000) < 1e-3) }
        // Item 0 alone draws 60%: its node has at least that, within sampling noise.
        let hotNode = ["node-a", "node-b", "node-c"][
            SlotMap(config: try ClusterConfig.load(path: config)).nodeIndex(forKey: "seckill:{\(prefix)-0}")]
        #expect(shares[hotNode]! > 0.57, "\(shares)")
        #expect((report["config"] as? [String: Any])?.number("hotShare") == 0.6)

        let text = await CLIRun.run([
            "sale", "--items", "30", "--stock", "100000", "--limit", "0", "--users", "500", "--requests", "600",
            "--concurrency", "8", "--hot-share", "0.6", "--prefix", prefix + "-t", "--config", config,
        ])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdoutLines.contains { $0.contains(hotNode) && $0.hasSuffix("%") }, "\(text.stdout)")
    }

    @Test("a hot share outside (0, 1) is a usage error naming the option")
    func invalid() async throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.threeNodes())
        for value in ["0", "1", "1.5", "-0.2", "half"] {
            let run = await CLIRun.run(["sale", "--hot-share", value, "--config", config])
            #expect(run.status == 2, "\(value)")
            #expect(run.stderr.contains("--hot-share must be a number strictly between 0 and 1"), "\(run.stderr)")
        }
    }
}
