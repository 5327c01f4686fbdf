import Foundation
import SeckillTestSupport
import Testing

/// `seckill publish` and `seckill unpublish` against a real node.
@Suite("Item lifecycle commands", .timeLimit(.minutes(1)))
struct ItemLifecycleCommandTests {
    @Test("unpublish refuses an item with sales, removes it with --force, then says it is not published")
    func unpublish() async throws {
        let server = try RedisServer()
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.text([.init(name: "solo", port: server.port, slots: [0...16383])]))
        let item = "life-\(UUID().uuidString.prefix(8))"
        await CLIRun.expectSuccess(["publish", item, "--stock", "3", "--config", config])
        await CLIRun.expectSuccess(["buy", item, "--user", "u", "--request-id", "r-1", "--config", config])

        let refused = await CLIRun.run(["unpublish", item, "--config", config])
        #expect(refused.status == 1)
        #expect(refused.stderrLines.count == 1)
        #expect(refused.stderr.contains("has sales") && refused.stderr.contains("force"), "\(refused.stderr)")

        let removed = await CLIRun.run(["unpublish", item, "--force", "--config", config, "--json"])
        #expect(removed.status == 0)
        let report = try removed.jsonObject()
        #expect(report.string("result") == "removed")
        #expect(report.number("keys") == 4)
        let left = try server.cli("KEYS", "*").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(left.isEmpty, "keys left: \(left)")

        let again = await CLIRun.run(["unpublish", item, "--config", config])
        #expect(again.status == 1)
        #expect(again.stderrLines == ["seckill: item \(item) is not published"])
    }

    @Test("publish refuses a node whose maxmemory-policy evicts, naming node, policy and fix; the flag overrides")
    func evictingNodeRefused() async throws {
        let server = try RedisServer(arguments: ["--maxmemory-policy", "volatile-lru"])
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.text([.init(name: "solo", port: server.port, slots: [0...16383])]))
        let item = "evict-\(UUID().uuidString.prefix(8))"
        let refused = await CLIRun.run(["publish", item, "--stock", "3", "--config", config])
        #expect(refused.status == 1)
        #expect(refused.stderrLines.count == 1)
        for part in ["solo", "volatile-lru", "noeviction", "--allow-eviction-policy"] {
            #expect(refused.stderr.contains(part), "\(part) missing from: \(refused.stderr)")
        }
        #expect(try server.cli("EXISTS", "seckill:{\(item)}").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        await CLIRun.expectSuccess(["publish", item, "--stock", "3", "--allow-eviction-policy", "--config", config])
    }
}
