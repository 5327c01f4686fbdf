import Foundation
import Testing

/// `seckill config check`: the summary of a valid file and every problem of a bad one.
@Suite("seckill config check")
struct ConfigCheckCommandTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// Gap 5461-5470 (node-b starts late) and overlap 10900-10922 (node-c starts early).
    static let gapAndOverlap = ClusterFile.threeNodes(ranges: [0...5460, 5471...10922, 10900...16383])

    @Test("the shipped-style three-node file is valid: exit 0, slot counts 5461/5462/5461 with shares")
    func validSummary() async throws {
        let path = try directory.write("cluster.json", ClusterFile.threeNodes())
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let lines = run.stdoutLines
        #expect(lines.first == "\(path): valid, 3 nodes, all 16384 slots assigned once")
        let rows = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.contains(["node-a", "127.0.0.1:7000", "5,461", "33.33%", "0-5460"]))
        #expect(rows.contains(["node-b", "127.0.0.1:7001", "5,462", "33.34%", "5461-10922"]))
        #expect(rows.contains(["node-c", "127.0.0.1:7002", "5,461", "33.33%", "10923-16383"]))
        #expect(run.stdout.contains("pool: 2 connections/node, 1024 in flight/node, acquire timeout 500 ms"))
        #expect(run.stdout.contains("timeouts: connect 2 s, command 2 s"))
    }

    @Test("--json of a valid file lists each node's ranges, slot count and share")
    func validJSON() async throws {
        let path = try directory.write("cluster.json", ClusterFile.threeNodes())
        let run = await CLIRun.run(["config", "check", "--config", path, "--json"])
        #expect(run.status == 0)
        let object = try run.jsonObject()
        #expect(object.string("config") == path)
        #expect(object.bool("valid") == true)
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.map { $0.string("name") } == ["node-a", "node-b", "node-c"])
        #expect(nodes.map { $0.number("port") } == [7000, 7001, 7002])
        #expect(nodes.map { $0.number("slots") } == [5461, 5462, 5461])
        #expect(nodes.map { $0["ranges"] as? [[Int]] } == [[[0, 5460]], [[5461, 10922]], [[10923, 16383]]])
        for node in nodes {
            let share = try #require(node.number("share"))
            #expect(abs(share - 1.0 / 3.0) < 0.001)
        }
    }

    @Test("the cluster.json shipped at the package root is valid")
    func shippedFileIsValid() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("cluster.json").path
        let run = await CLIRun.run(["config", "check", "--config", path, "--json"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let nodes = try #require(try run.jsonObject()["nodes"] as? [[String: Any]])
        #expect(nodes.compactMap { $0.number("slots") }.reduce(0, +) == 16384)
    }

    @Test("a gap and an overlap are both reported; exit 1 and a one-line summary on stderr")
    func gapAndOverlap() async throws {
        let path = try directory.write("bad.json", Self.gapAndOverlap)
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 1)
        #expect(
            run.stdoutLines == [
                "\(path): slots 5461-5470 are not assigned to any node",
                "\(path): slots 10900-10922 are assigned to both node-b and node-c",
            ])
        #expect(run.stderrLines == ["seckill: \(path) is invalid: 2 problems"])
    }

    @Test("--json of an invalid file lists every problem")
    func invalidJSON() async throws {
        let path = try directory.write("bad.json", Self.gapAndOverlap)
        let run = await CLIRun.run(["config", "check", "--config", path, "--json"])
        #expect(run.status == 1)
        let object = try run.jsonObject()
        #expect(object.bool("valid") == false)
        let problems = try #require(object["problems"] as? [String])
        #expect(problems.count == 2)
        #expect(problems.contains { $0.contains("slots 5461-5470 are not assigned to any node") })
        #expect(problems.contains { $0.contains("slots 10900-10922 are assigned to both node-b and node-c") })
        #expect(run.stderrLines.count == 1)
    }

    @Test("a single unassigned slot is named in the singular")
    func singleSlotGap() async throws {
        let path = try directory.write("gap.json", ClusterFile.threeNodes(ranges: [0...5460, 5462...10922, 10923...16383]))
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdoutLines == ["\(path): slot 5461 is not assigned to any node"])
        #expect(run.stderrLines == ["seckill: \(path) is invalid: 1 problem"])
    }

    @Test("field problems (bad port, unknown field) are listed alongside each other")
    func fieldProblems() async throws {
        let text = ClusterFile.threeNodes(ports: [7000, 70000, 7002]).replacingOccurrences(
            of: "\"pool\": {", with: "\"pool\": {\"sizee\": 3, ")
        let path = try directory.write("fields.json", text)
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("nodes[1].port: 70000 is out of range 1-65535"))
        #expect(run.stdout.contains("sizee"))
        #expect(run.stdoutLines.count >= 2)
        #expect(run.stderrLines.count == 1)
    }

    @Test("a JSON syntax error is reported with its line and column")
    func syntaxError() async throws {
        let path = try directory.write("syntax.json", "{\"nodes\": [\n  {\"name\": \"a\" \"host\": \"x\"}\n]}\n")
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdoutLines == ["\(path): line 2, column 16: expected ',' or '}' after object member"])
        #expect(run.stderrLines == ["seckill: \(path) is invalid: 1 problem"])

        let json = await CLIRun.run(["config", "check", "--config", path, "--json"])
        #expect(json.status == 1)
        let problems = try #require(try json.jsonObject()["problems"] as? [String])
        #expect(problems == ["\(path): line 2, column 16: expected ',' or '}' after object member"])
    }

    @Test("a missing file is an error naming the path")
    func missingFile() async throws {
        let path = directory.file("does-not-exist.json")
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("\(path): file not found"))
        #expect(run.stdout.contains("seckill config init"))
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: \(path)"))

        let json = await CLIRun.run(["config", "check", "--config", path, "--json"])
        #expect(json.status == 1)
        let object = try json.jsonObject()
        #expect(object.bool("valid") == false)
        #expect((object["problems"] as? [String])?.first?.contains("file not found") == true)
    }

    @Test("a directory given as the config is an error naming it")
    func directoryAsConfig() async {
        let run = await CLIRun.run(["config", "check", "--config", directory.path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("\(directory.path): is a directory"))
    }

    @Test("auth is summarised with the variable name and whether it is set, never a password")
    func authSummary() async throws {
        let variable = "SECKILL_CLI_TEST_UNSET_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
        let path = try directory.write("auth.json", ClusterFile.threeNodes(authEnv: variable))
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 0)
        #expect(run.stdout.contains("auth: user (default), password from $\(variable) (NOT SET in this environment)"))
    }

    @Test("a bad sale or durability field fails config check, and every command loading the config, with the sale layer's message")
    func saleSectionsAreChecked() async throws {
        let node = #"{"name": "solo", "host": "127.0.0.1", "port": 7000, "slots": [[0, 16383]]}"#
        let path = try directory.write(
            "sale.json", #"{"nodes": [\#(node)], "durability": {"replica": 1}, "sale": {"callDeadlineMs": 10}}"#)
        let problems = [
            #"\#(path): durability: unknown field "replica" (did you mean "replicas"?)"#,
            "\(path): sale.callDeadlineMs: 10 is below timeouts.commandMs (1000): one attempt may wait that long for its reply, so a call could not keep its deadline; raise sale.callDeadlineMs or lower timeouts.commandMs",
        ]
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdoutLines.map(String.init) == problems)
        #expect(run.stderrLines == ["seckill: \(path) is invalid: 2 problems"])

        let nodes = await CLIRun.run(["config", "nodes", "--config", path])
        #expect(nodes.status != 0)
        #expect(nodes.stderr.contains(problems[0]), "\(nodes.stderr)")
    }

    @Test("durability is summarised, and raises the default connections per node")
    func durabilitySummary() async throws {
        let node = #"{"name": "solo", "host": "127.0.0.1", "port": 7000, "slots": [[0, 16383]]}"#
        let path = try directory.write("durable.json", #"{"nodes": [\#(node)], "durability": {"replicas": 1, "timeoutMs": 50}}"#)
        let run = await CLIRun.run(["config", "check", "--config", path])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("pool: 4 connections/node"), "\(run.stdout)")

        let cluster = try directory.write(
            "cluster.json",
            #"{"mode": "cluster", "seeds": [{"host": "127.0.0.1", "port": 7100}], "durability": {"replicas": 1, "timeoutMs": 50}}"#)
        let clusterRun = await CLIRun.run(["config", "check", "--config", cluster])
        #expect(clusterRun.status == 0, "\(clusterRun.stdout)\(clusterRun.stderr)")
        #expect(clusterRun.stdout.contains("durability: WAIT 1 replica(s), 50 ms"), "\(clusterRun.stdout)")
    }
}
