import Foundation
import SeckillTestSupport
import Testing

/// `seckill nodes` against real redis-server processes.
@Suite("seckill nodes against real Redis", .timeLimit(.minutes(1)))
struct NodesCommandTests {
    let directory: TemporaryDirectory
    let servers: [RedisServer]
    let config: String

    init() throws {
        directory = try TemporaryDirectory()
        servers = try (0..<3).map { _ in try RedisServer() }
        config = try directory.write("cluster.json", ClusterFile.threeNodes(ports: servers.map(\.port)))
    }

    /// The version of the installed redis-server, e.g. `7.0.15` from `Redis server v=7.0.15 sha=...`.
    static func installedVersion() throws -> String {
        let output = try RedisServer.run(try RedisServer.executable(), ["--version"])
        let field = try #require(output.split(separator: " ").first { $0.hasPrefix("v=") })
        return String(field.dropFirst(2))
    }

    @Test("three reachable nodes: exit 0 and a reachable row per node")
    func allReachableText() async {
        let run = await CLIRun.run(["nodes", "--config", config])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let rows = run.stdoutLines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["NODE", "ADDRESS", "STATUS", "VERSION", "LATENCY", "ERROR"])
        for (name, server) in zip(["node-a", "node-b", "node-c"], servers) {
            let row = rows.first { $0.first == name }
            #expect(row?[1] == "127.0.0.1:\(server.port)")
            #expect(row?[2] == "reachable")
            #expect(row?.last == "ms")
        }
    }

    @Test("--json: an array of {name, host, port, reachable, version, latencyMs, error} per node")
    func allReachableJSON() async throws {
        let run = await CLIRun.run(["nodes", "--config", config, "--json"])
        #expect(run.status == 0)
        let nodes = try run.jsonArray()
        #expect(nodes.count == 3)
        let version = try Self.installedVersion()
        #expect(Int(version.prefix { $0 != "." }) ?? 0 >= 7, "the tests expect Redis 7 or later, found \(version)")
        for (index, node) in nodes.enumerated() {
            #expect(Set(node.keys) == ["name", "host", "port", "reachable", "version", "latencyMs", "error"])
            #expect(node.string("name") == ["node-a", "node-b", "node-c"][index])
            #expect(node.string("host") == "127.0.0.1")
            #expect(node.number("port") == Double(servers[index].port))
            #expect(node.bool("reachable") == true)
            #expect(node.string("version") == version)
            let latency = try #require(node.number("latencyMs"))
            #expect(latency > 0 && latency < 500)
            #expect(node.isNull("error"))
        }
    }

    @Test("one node stopped: exit 1, all three listed, the stopped one unreachable, one line on stderr naming it")
    func oneNodeDown() async throws {
        servers[1].stop()
        let run = await CLIRun.run(["nodes", "--config", config, "--json"])
        #expect(run.status == 1)
        let nodes = try run.jsonArray()
        #expect(nodes.map { $0.string("name") } == ["node-a", "node-b", "node-c"])
        #expect(nodes.map { $0.bool("reachable") } == [true, false, true])
        let down = nodes[1]
        let error = try #require(down.string("error"))
        #expect(error.contains("refused"), "\(error)")
        #expect(down.isNull("version"))
        #expect(down.isNull("latencyMs"))
        #expect(nodes[0].isNull("error") && nodes[2].isNull("error"))

        #expect(run.stderrLines.count == 1)
        let line = try #require(run.stderrLines.first)
        #expect(line.hasPrefix("seckill: node node-b (127.0.0.1:\(servers[1].port)) unreachable: "))
        #expect(line.hasSuffix(error))
    }

    @Test("one node stopped, text output: its row says UNREACHABLE with the error")
    func oneNodeDownText() async throws {
        servers[2].stop()
        let run = await CLIRun.run(["nodes", "--config", config])
        #expect(run.status == 1)
        let row = try #require(run.stdoutLines.first { $0.hasPrefix("node-c ") })
        #expect(row.contains("UNREACHABLE"))
        // The reason the socket gave: refused, or (rarely, a port the kernel handed to
        // another socket of the machine in between) reset.
        #expect(row.contains("refused") || row.contains("reset"), "\(row)")
        #expect(run.stdoutLines.filter { $0.contains(" reachable ") }.count == 2)
        #expect(run.stderrLines.count == 1)
    }

    @Test("every node stopped: stderr still one line, counting the others")
    func allNodesDown() async {
        for server in servers { server.stop() }
        let run = await CLIRun.run(["nodes", "--config", config])
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: node node-a "))
        #expect(run.stderr.contains("(and 2 more nodes unreachable)"))
    }

    @Test("a node that comes back is reachable again")
    func nodeRestarted() async throws {
        servers[0].stop()
        #expect(await CLIRun.run(["nodes", "--config", config]).status == 1)
        try servers[0].restart()
        let run = await CLIRun.run(["nodes", "--config", config, "--json"])
        #expect(run.status == 0)
        #expect(try run.jsonArray().allSatisfy { $0.bool("reachable") == true })
    }

    @Test("auth configured but its variable unset: exit 1, one line naming the variable, nothing probed")
    func authVariableUnset() async throws {
        let server = try RedisServer(password: "s3cret-\(UUID().uuidString)")
        let variable = "SECKILL_CLI_TEST_UNSET_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
        let path = try directory.write(
            "auth.json", ClusterFile.text([.init(name: "secure", port: server.port, slots: [0...16383])], authEnv: variable))
        let run = await CLIRun.run(["nodes", "--config", path, "--json"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: environment variable \(variable) is not set"))
        #expect(run.stderr.contains("export \(variable)="))
    }

    @Test("a missing config: exit 1 naming the path")
    func missingConfig() async {
        let path = directory.file("absent.json")
        let run = await CLIRun.run(["nodes", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.contains(path))
    }
}
