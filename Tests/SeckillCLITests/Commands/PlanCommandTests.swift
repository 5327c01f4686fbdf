import Foundation
import SeckillRouting
import SeckillTestSupport
import Testing

/// `seckill plan` in static mode against three real nodes.
@Suite("seckill plan (static)", .timeLimit(.minutes(2)))
struct PlanCommandTests {
    let servers: [RedisServer]
    let directory: TemporaryDirectory
    let config: String
    /// Three items whose slots all belong to node-a (slots 0-5460).
    let hot: [String]

    init() throws {
        servers = try (0..<3).map { _ in try RedisServer() }
        directory = try TemporaryDirectory()
        config = try directory.write("cluster.json", ClusterFile.threeNodes(ports: servers.map(\.port)))
        let prefix = "plan-\(UUID().uuidString.prefix(8).lowercased())"
        var found: [String] = []
        var index = 0
        while found.count < 3 {
            let item = "\(prefix)-\(index)"
            if Int(DemandFile.slot(ofItem: item).rawValue) <= 5460 { found.append(item) }
            index += 1
        }
        hot = found
    }

    func demand(_ shares: [Double] = [0.3, 0.3, 0.3]) throws -> String {
        let entries = zip(hot, shares).map { #"{"item": "\#($0)", "share": \#($1)}"# }
        return try directory.write("demand.json", #"{"items": [\#(entries.joined(separator: ", "))]}"#)
    }

    /// The plan's moves as (slot, from, to) from `--json`.
    func planMoves(_ object: [String: Any]) throws -> [(slot: Int, from: String, to: String, labels: [String])] {
        let rows = try #require(object["moves"] as? [[String: Any]])
        return try rows.map { row in
            (
                Int(try #require(row.number("slot"))), try #require(row.string("from")), try #require(row.string("to")),
                try #require(row["labels"] as? [String])
            )
        }
    }

    func port(of node: String) -> Int { servers[["node-a", "node-b", "node-c"].firstIndex(of: node)!].port }

    @Test("--output writes a config that passes config check and puts a third of the demand on each node")
    func writesBalancedConfig() async throws {
        let output = directory.file("planned.json")
        let run = await CLIRun.run(["plan", "--demand", try demand(), "--config", config, "--output", output, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.jsonObject()
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.count == 3)
        let now = nodes.compactMap { $0.number("now") }
        let planned = nodes.compactMap { $0.number("planned") }
        #expect(now[0] > 0.9, "node-a holds all three hot items now: \(now)")
        for share in planned { #expect(abs(share - 1.0 / 3) < 0.01, "planned \(planned)") }
        #expect(try #require(object.number("maxPlanned")) < 1.0 / 3 + 0.01)
        #expect(object.string("output") == output)

        let moves = try planMoves(object)
        #expect(moves.count == 2)
        #expect(moves.allSatisfy { $0.from == "node-a" && $0.labels.count == 1 && hot.contains($0.labels[0]) })
        #expect(Set(moves.map(\.to)) == ["node-b", "node-c"])

        let check = await CLIRun.run(["config", "check", "--config", output])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let written = try ClusterConfig.load(path: output)
        let map = SlotMap(config: written)
        for move in moves { #expect(map.node(for: HashSlot(move.slot)!).name == move.to) }
        for (index, node) in written.nodes.enumerated() { #expect(node.port == servers[index].port) }

        // Planning again from the written file finds nothing to move.
        let again = await CLIRun.run(["plan", "--demand", try demand(), "--config", output, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try planMoves(again.jsonObject()).isEmpty)
    }

    @Test("published items in moving slots are named and nothing is written; --move-keys moves their keys first")
    func publishedItems() async throws {
        for item in hot {
            await CLIRun.expectSuccess(["publish", item, "--stock", "5", "--config", config])
            await CLIRun.expectSuccess(["buy", item, "--user", "alice", "--config", config])
        }
        let demandFile = try demand()
        let preview = await CLIRun.run(["plan", "--demand", demandFile, "--config", config, "--json"])
        #expect(preview.status == 0, "\(preview.stderr)")
        let moves = try planMoves(preview.jsonObject())
        #expect(moves.count == 2)
        let moving = moves.map { $0.labels[0] }

        let output = directory.file("planned.json")
        let refused = await CLIRun.run(["plan", "--demand", demandFile, "--config", config, "--output", output])
        #expect(refused.status == 1)
        #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
        for item in moving { #expect(refused.stderr.contains(item), "\(item) not named: \(refused.stderr)") }
        #expect(refused.stderr.contains("--move-keys"))
        #expect(!FileManager.default.fileExists(atPath: output))

        let moved = await CLIRun.run(["plan", "--demand", demandFile, "--config", config, "--output", output, "--move-keys"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stdout.contains("restart every coordinator"))
        #expect(FileManager.default.fileExists(atPath: output))
        for move in moves {
            let item = move.labels[0]
            let source = servers.first { $0.port == port(of: move.from) }!
            let target = servers.first { $0.port == port(of: move.to) }!
            let onSource = try source.cli("KEYS", "seckill:{\(item)}*").split(separator: "\n").filter { !$0.isEmpty }
            let onTarget = try target.cli("KEYS", "seckill:{\(item)}*").split(separator: "\n").filter { !$0.isEmpty }
            #expect(onSource.isEmpty, "\(item) left \(onSource) on \(move.from)")
            #expect(onTarget.count >= 3, "\(item) has \(onTarget) on \(move.to)")
        }
        // Through the new file every item is found with its sale, and sells on.
        let status = await CLIRun.run(["status"] + hot + ["--config", output, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let rows = try status.jsonArray()
        #expect(rows.count == 3 && rows.allSatisfy { $0.number("sold") == 1 && $0.number("total") == 5 }, "\(rows)")
        for item in moving {
            await CLIRun.expectSuccess(["buy", item, "--user", "bob", "--config", output])
        }
    }

    @Test("the text report shows each node's share now and as planned, the moves, and how to write them")
    func textReport() async throws {
        let run = await CLIRun.run(["plan", "--demand", try demand(), "--config", config])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdoutLines
        #expect(lines.first?.hasPrefix("placement plan for 3 nodes (static mode)") == true, "\(run.stdout)")
        #expect(lines.contains { $0.contains("NOW") && $0.contains("PLANNED") })
        #expect(lines.contains { $0.hasPrefix("  node-a") && $0.contains("93.33%") }, "\(run.stdout)")
        #expect(lines.contains { $0.hasPrefix("busiest node: 93.33% of attempts now, 33.33% as planned") }, "\(run.stdout)")
        #expect(lines.contains("2 slot moves:"))
        #expect(lines.filter { $0.hasPrefix("  slot ") && $0.contains("node-a (127.0.0.1:") }.count == 2)
        #expect(lines.last == "nothing written: pass --output FILE to write the planned cluster.json")
        #expect(run.stderr.isEmpty)
    }

    @Test("bad arguments and bad demand files are clear errors")
    func badInput() async throws {
        let missing = await CLIRun.run(["plan", "--config", config])
        #expect(missing.status == 2 && missing.stderr.contains("--demand"))
        let apply = await CLIRun.run(["plan", "--demand", try demand(), "--config", config, "--apply"])
        #expect(apply.status == 2 && apply.stderr.contains("--output"), "\(apply.stderr)")
        let keys = await CLIRun.run(["plan", "--demand", try demand(), "--config", config, "--move-keys"])
        #expect(keys.status == 2 && keys.stderr.contains("--output"), "\(keys.stderr)")
        // Cluster mode takes --apply, not --output or --move-keys (checked before any connection).
        let cluster = try directory.write("cluster-mode.json", #"{"mode": "cluster", "seeds": [{"host": "127.0.0.1", "port": 1}]}"#)
        let output = await CLIRun.run(["plan", "--demand", try demand(), "--config", cluster, "--output", directory.file("x.json")])
        #expect(output.status == 2 && output.stderr.contains("--apply"), "\(output.stderr)")
        let clusterKeys = await CLIRun.run(["plan", "--demand", try demand(), "--config", cluster, "--move-keys"])
        #expect(clusterKeys.status == 2 && clusterKeys.stderr.contains("--move-keys is for static mode"), "\(clusterKeys.stderr)")
        let bad = try directory.write("bad.json", #"{"items": [{"item": "x", "share": 2}]}"#)
        let invalid = await CLIRun.run(["plan", "--demand", bad, "--config", config])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("bad.json: items[0].share"), "\(invalid.stderr)")
    }

    @Test("a bucketed item already published is planned in its buckets' own slots, kept on distinct nodes")
    func plansPublishedBuckets() async throws {
        let item = "\(hot[0])-phone"
        let publish = await CLIRun.run(["publish", item, "--stock", "300", "--buckets", "3", "--config", config])
        #expect(publish.status == 0, "\(publish.stderr)")
        let file = try directory.write("buckets.json", #"{"items": [{"item": "\#(item)", "share": 0.6, "buckets": 3}]}"#)
        let run = await CLIRun.run(["plan", "--demand", file, "--config", config, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.jsonObject()
        let notes = try #require(object["notes"] as? [Any])
        #expect(notes.isEmpty, "the buckets' slots are known: \(notes)")
        let units = try #require(object["units"] as? [[String: Any]])
        let buckets = units.filter { ($0.string("label") ?? "").hasPrefix("\(item) bucket") }
        #expect(buckets.count == 3)
        #expect(buckets.allSatisfy { $0.number("slot") != nil }, "\(buckets)")
        #expect(Set(buckets.compactMap { $0.string("nodePlanned") }).count == 3, "\(buckets)")
        #expect(Set(buckets.compactMap { $0.string("nodeNow") }).count == 3, "publish placed them on distinct nodes: \(buckets)")
    }
}
