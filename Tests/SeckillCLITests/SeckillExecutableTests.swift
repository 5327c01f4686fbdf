import Foundation
import SeckillTestSupport
import Testing

/// The real `seckill` binary as a child process: exit statuses, stdout and stderr as a
/// shell sees them, and passwords passed through the environment.
@Suite("seckill binary as a subprocess", .timeLimit(.minutes(1)))
struct SeckillExecutableTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("seckill slot --json foo prints the slot on stdout and exits 0")
    func slotJSON() throws {
        let config = try directory.write("cluster.json", ClusterFile.threeNodes())
        let result = try SeckillExecutable.run(["slot", "--config", config, "--json", "foo"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows.first?.string("key") == "foo")
        #expect(rows.first?.number("slot") == 12182)
        #expect(rows.first?.string("node") == "node-c")
    }

    @Test("a failure prints exactly one line on stderr and exits 1")
    func failureIsOneLine() throws {
        let path = try directory.write("bad.json", ClusterFile.threeNodes(ranges: [0...5460, 5471...10922, 10900...16383]))
        let result = try SeckillExecutable.run(["distribution", "--config", path, "--items", "10"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderrLines == [
                "seckill: \(path): slots 5461-5470 are not assigned to any node (and 1 more problem; run seckill config check)"
            ])
    }

    @Test("usage errors exit 2 from the binary too")
    func usageErrorStatus() throws {
        let none = try SeckillExecutable.run([])
        #expect(none.status == 2)
        #expect(none.stdout.isEmpty)
        let unknown = try SeckillExecutable.run(["frobnicate"])
        #expect(unknown.status == 2)
        #expect(unknown.stderrLines.count == 1)
    }

    @Test("seckill --help goes to stdout with exit 0")
    func help() throws {
        let result = try SeckillExecutable.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Usage: seckill COMMAND"))
        #expect(result.stderr.isEmpty)
    }

    @Test("nodes with the password in the named variable: exit 0, reachable")
    func authPasswordSet() throws {
        let password = "s3cret-\(UUID().uuidString)"
        let server = try RedisServer(password: password)
        let variable = "SECKILL_CLI_TEST_PW_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
        let config = try directory.write(
            "auth.json", ClusterFile.text([.init(name: "secure", port: server.port, slots: [0...16383])], authEnv: variable))
        let result = try SeckillExecutable.run(["nodes", "--config", config, "--json"], environment: [variable: password])
        #expect(result.status == 0, "\(result.stderr)")
        let nodes = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(nodes.first?.bool("reachable") == true)
        #expect(!result.stdout.contains(password))
    }

    @Test("nodes with a wrong password: exit 1, the node unreachable with the AUTH error, one stderr line")
    func authPasswordWrong() throws {
        let server = try RedisServer(password: "right-\(UUID().uuidString)")
        let variable = "SECKILL_CLI_TEST_PW_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
        let config = try directory.write(
            "auth.json", ClusterFile.text([.init(name: "secure", port: server.port, slots: [0...16383])], authEnv: variable))
        let wrong = "wrong-\(UUID().uuidString)"
        let result = try SeckillExecutable.run(["nodes", "--config", config, "--json"], environment: [variable: wrong])
        #expect(result.status == 1)
        let nodes = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(nodes.first?.bool("reachable") == false)
        #expect(nodes.first?.string("error")?.contains("WRONGPASS") == true)
        #expect(result.stderrLines.count == 1)
        #expect(result.stderr.hasPrefix("seckill: node secure (127.0.0.1:\(server.port)) unreachable: "))
        #expect(!result.stdout.contains(wrong) && !result.stderr.contains(wrong), "the password must not be printed")
    }

    @Test("nodes with the variable set but empty: exit 1, one line saying it is empty")
    func authPasswordEmpty() throws {
        let server = try RedisServer(password: "right-\(UUID().uuidString)")
        let variable = "SECKILL_CLI_TEST_PW_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
        let config = try directory.write(
            "auth.json", ClusterFile.text([.init(name: "secure", port: server.port, slots: [0...16383])], authEnv: variable))
        let result = try SeckillExecutable.run(["nodes", "--config", config], environment: [variable: ""])
        #expect(result.status == 1)
        #expect(
            result.stderrLines == [
                Substring(
                    "seckill: environment variable \(variable) is empty; the cluster config's auth.passwordEnv names it as the Redis password: set it to the password, or remove the auth section if the nodes have no password"
                )
            ])
    }
}
