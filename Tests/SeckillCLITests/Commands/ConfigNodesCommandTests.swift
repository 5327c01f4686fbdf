import Foundation
import Testing

/// `seckill config nodes` and `seckill config auth`: the lines scripts/nodes.sh reads.
@Suite("seckill config nodes and config auth")
struct ConfigNodesCommandTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("static mode: one line NAME HOST PORT per node, in file order, nothing on stderr")
    func staticNodes() async throws {
        let path = try directory.write("cluster.json", ClusterFile.threeNodes(ports: [7010, 7011, 7012]))
        let run = await CLIRun.run(["config", "nodes", "--config", path])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(run.stdoutLines == ["node-a 127.0.0.1 7010", "node-b 127.0.0.1 7011", "node-c 127.0.0.1 7012"])
    }

    @Test("cluster mode has no fixed nodes: exit 1, nothing on stdout, the seeds named on stderr")
    func clusterModeFails() async throws {
        let path = try directory.write(
            "cluster.json",
            """
            {"mode": "cluster", "seeds": [{"host": "127.0.0.1", "port": 7100}, {"host": "127.0.0.1", "port": 7101}]}
            """)
        let run = await CLIRun.run(["config", "nodes", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.contains("cluster mode: it has no fixed nodes"))
        #expect(run.stderr.contains("127.0.0.1:7100, 127.0.0.1:7101"))
    }

    @Test("an invalid config prints no nodes and fails with the problem")
    func invalidConfigFails() async throws {
        let path = try directory.write("bad.json", ClusterFile.threeNodes(ranges: [0...5460, 5471...10922, 10923...16383]))
        let run = await CLIRun.run(["config", "nodes", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("5461-5470"))
    }

    @Test("a missing file fails naming it")
    func missingFileFails() async throws {
        let path = directory.file("absent.json")
        let run = await CLIRun.run(["config", "nodes", "--config", path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains(path))
    }

    @Test("a node name with a space cannot be one field: exit 1")
    func nameWithSpaceFails() async throws {
        let text = ClusterFile.threeNodes().replacingOccurrences(of: "\"node-b\"", with: "\"node b\"")
        let path = try directory.write("cluster.json", text)
        let run = await CLIRun.run(["config", "nodes", "--config", path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("\"node b\" contains whitespace"))
    }

    @Test("config auth: PASSWORD_ENV and the user (default when unnamed); nothing without auth")
    func auth() async throws {
        let plain = try directory.write("plain.json", ClusterFile.threeNodes())
        let none = await CLIRun.run(["config", "auth", "--config", plain])
        #expect(none.status == 0)
        #expect(none.stdout.isEmpty)

        let withAuth = try directory.write("auth.json", ClusterFile.threeNodes(authEnv: "SECKILL_TEST_PASSWORD"))
        let defaultUser = await CLIRun.run(["config", "auth", "--config", withAuth])
        #expect(defaultUser.status == 0)
        #expect(defaultUser.stdoutLines == ["SECKILL_TEST_PASSWORD default"])

        let named = ClusterFile.threeNodes(authEnv: "SECKILL_TEST_PASSWORD")
            .replacingOccurrences(of: "{\"passwordEnv\"", with: "{\"username\": \"sale\", \"passwordEnv\"")
        let withUser = try directory.write("user.json", named)
        let namedUser = await CLIRun.run(["config", "auth", "--config", withUser])
        #expect(namedUser.status == 0)
        #expect(namedUser.stdoutLines == ["SECKILL_TEST_PASSWORD sale"])
    }
}
