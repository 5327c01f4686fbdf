import Foundation
import SeckillTestSupport
import Testing

/// `seckill publish --buckets`, and the item commands on a bucketed item, against three nodes.
@Suite("Bucket commands", .timeLimit(.minutes(1)))
struct BucketCommandTests {
    @Test("publish --buckets 3 puts the buckets on three nodes; status, buy, cancel and unpublish work on it")
    func bucketedItem() async throws {
        let servers = try (0..<3).map { _ in try RedisServer() }
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.threeNodes(ports: servers.map(\.port)))
        let item = "hot-\(UUID().uuidString.prefix(8))"
        let published = await CLIRun.run(["publish", item, "--stock", "10", "--limit", "2", "--buckets", "3", "--config", config])
        #expect(published.status == 0, "\(published.stderr)")
        #expect(published.stdout.contains("3 buckets on"), "\(published.stdout)")

        let status = await CLIRun.run(["status", item, "--json", "--config", config])
        let entry = try #require(try status.jsonArray().first)
        #expect(entry["total"] as? Int == 10)
        let buckets = try #require(entry["buckets"] as? [[String: Any]])
        #expect(buckets.compactMap { $0["total"] as? Int } == [4, 3, 3])
        #expect(Set(buckets.compactMap { $0["node"] as? String }) == ["node-a", "node-b", "node-c"])

        let bought = await CLIRun.run(["buy", item, "--user", "alice", "--json", "--config", config])
        #expect(bought.status == 0, "\(bought.stderr)")
        let order = try #require(try bought.jsonObject().string("order"))
        #expect(order.contains(":"), "a bucketed order names its bucket: \(order)")
        let cancelled = await CLIRun.run(["cancel", item, "--order", order, "--config", config])
        #expect(cancelled.status == 0, "\(cancelled.stderr)")

        let removed = await CLIRun.run(["unpublish", item, "--force", "--config", config])
        #expect(removed.status == 0, "\(removed.stderr)")
        for server in servers {
            let left = try server.cli("KEYS", "*").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(left.isEmpty, "keys left on \(server.port): \(left)")
        }

        let refused = await CLIRun.run(["publish", item, "--stock", "10", "--buckets", "0", "--config", config])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--buckets"), "\(refused.stderr)")
    }
}
