import Foundation
import Testing

/// `seckill config init`: writes an evenly sharded config that `config check` accepts.
@Suite("seckill config init")
struct ConfigInitCommandTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    static let threeAddresses = "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"

    /// The nodes `config check --json` reports for `path`.
    func checkedNodes(_ path: String) async throws -> [[String: Any]] {
        let run = await CLIRun.run(["config", "check", "--config", path, "--json"])
        #expect(run.status == 0, "config check rejected \(path): \(run.stdout) \(run.stderr)")
        return try #require(try run.jsonObject()["nodes"] as? [[String: Any]])
    }

    @Test("three addresses give a file config check accepts, with the redis-cli ranges")
    func writesEvenConfig() async throws {
        let output = directory.file("cluster.json")
        let run = await CLIRun.run(["config", "init", "--nodes", Self.threeAddresses, "--output", output])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        #expect(run.stdoutLines.first == "wrote \(output): 3 nodes")
        #expect(run.stdout.contains("node-b  127.0.0.1:7001  slots 5461-10922  (5462)"))

        let nodes = try await checkedNodes(output)
        #expect(nodes.map { $0.string("name") } == ["node-a", "node-b", "node-c"])
        #expect(nodes.map { $0.string("host") } == ["127.0.0.1", "127.0.0.1", "127.0.0.1"])
        #expect(nodes.map { $0.number("port") } == [7000, 7001, 7002])
        #expect(nodes.map { $0["ranges"] as? [[Int]] } == [[[0, 5460]], [[5461, 10922]], [[10923, 16383]]])
        // No temporary file is left next to the output.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["cluster.json"])
    }

    @Test("an existing file is not overwritten without --force: exit 1, message names --force, file unchanged")
    func refusesToOverwrite() async throws {
        let output = try directory.write("cluster.json", "keep me\n")
        let run = await CLIRun.run(["config", "init", "--nodes", Self.threeAddresses, "--output", output])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines == ["seckill: \(output) already exists; pass --force to overwrite it"])
        #expect(directory.read("cluster.json") == "keep me\n")
    }

    @Test("--force replaces an existing file with the new config")
    func forceOverwrites() async throws {
        let output = try directory.write("cluster.json", "old content\n")
        let run = await CLIRun.run(["config", "init", "--nodes", "127.0.0.1:7100,127.0.0.1:7101", "--output", output, "--force"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(directory.read("cluster.json") != "old content\n")
        let nodes = try await checkedNodes(output)
        #expect(nodes.map { $0.number("port") } == [7100, 7101])
        #expect(nodes.map { $0["ranges"] as? [[Int]] } == [[[0, 8191]], [[8192, 16383]]])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["cluster.json"])
    }

    @Test(
        "a bad address is a clear error and writes nothing",
        arguments: [
            ("nohost", "\"nohost\": expected HOST:PORT, e.g. 127.0.0.1:7000"),
            ("127.0.0.1:70000", "\"127.0.0.1:70000\": port 70000 is out of range 1-65535"),
            ("127.0.0.1:http", "\"127.0.0.1:http\": port \"http\" is not a number"),
            (":7000", "the host is empty"),
            ("127.0.0.1:7000,,127.0.0.1:7001", "node address 2 is empty"),
            ("127.0.0.1:7000,127.0.0.1:7000", "127.0.0.1:7000 is listed more than once"),
        ])
    func badAddress(list: String, message: String) async throws {
        let output = directory.file("cluster.json")
        let run = await CLIRun.run(["config", "init", "--nodes", list, "--output", output])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: "))
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("several bad addresses still give one line on stderr, starting with the first")
    func severalBadAddresses() async {
        let run = await CLIRun.run(["config", "init", "--nodes", "nohost,127.0.0.1:70000", "--output", directory.file("x.json")])
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: \"nohost\": expected HOST:PORT"))
        #expect(run.stderr.contains("; "), "every problem is listed on the one line: \(run.stderr)")
        #expect(run.stderr.contains("70000"))
    }

    @Test("a bracketed IPv6 address is accepted and written without brackets")
    func ipv6() async throws {
        let output = directory.file("v6.json")
        let run = await CLIRun.run(["config", "init", "--nodes", "[::1]:7000,127.0.0.1:7001", "--output", output])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("[::1]:7000"))
        let nodes = try await checkedNodes(output)
        #expect(nodes.map { $0.string("host") } == ["::1", "127.0.0.1"])
        #expect(nodes.map { $0.number("port") } == [7000, 7001])
        #expect(directory.read("v6.json")?.contains("\"host\": \"::1\"") == true)
    }

    @Test("--nodes is required: exit 2")
    func nodesRequired() async {
        let run = await CLIRun.run(["config", "init", "--output", directory.file("x.json")])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--nodes is required"))
    }

    @Test("an output in a missing directory fails with exit 1 naming the path")
    func unwritableOutput() async {
        let output = directory.file("missing/cluster.json")
        let run = await CLIRun.run(["config", "init", "--nodes", Self.threeAddresses, "--output", output])
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: cannot write \(output)"))
    }
}
