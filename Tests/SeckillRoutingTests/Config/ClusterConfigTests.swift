import Foundation
import SeckillRouting
import Testing

@Suite("ClusterConfig loading")
struct ClusterConfigTests {
    @Test("the documented example loads with every field")
    func exampleLoads() throws {
        let config = try ClusterConfig.parse(exampleJSON, source: "cluster.json")
        #expect(config.nodes == threeNodes([0...5460], [5461...10922], [10923...16383]))
        #expect(config.pool == PoolSettings(connectionsPerNode: 2, maxInFlightPerNode: 1024, acquireTimeout: .milliseconds(500)))
        #expect(config.pool.reconnectMin == .milliseconds(50))
        #expect(config.pool.reconnectMax == .milliseconds(2000))
        #expect(config.timeouts == TimeoutSettings(connect: .milliseconds(1000), command: .milliseconds(1000)))
        #expect(config.auth == AuthSettings(username: "default", passwordEnv: "SECKILL_REDIS_PASSWORD"))
        #expect(config.database == 0)
        #expect(config.source == "cluster.json")
    }

    @Test("only nodes is required; everything else gets its default")
    func defaultsFilledIn() throws {
        let config = try ClusterConfig.parse(
            #"{"nodes": [{"name": "solo", "host": "localhost", "port": 6379, "slots": [[0, 16383]]}]}"#, source: "min.json")
        #expect(config.pool == .defaults)
        #expect(config.pool.connectionsPerNode == nil)
        #expect(config.connectionsPerNode == 1)
        #expect(config.poolOptions.connections == 1)
        #expect(config.pool.maxInFlightPerNode == 1024)
        #expect(config.pool.acquireTimeout == .milliseconds(500))
        #expect(config.timeouts == .defaults)
        #expect(config.timeouts.connect == .seconds(1))
        #expect(config.auth == nil)
        #expect(config.database == 0)
    }

    @Test("optional fields are read when present")
    func optionalFields() throws {
        let json = """
            {
              "nodes": [{"name": "solo", "host": "::1", "port": 6379, "slots": [[0, 100], [101, 16383]]}],
              "pool": {"reconnectMinMs": 10, "reconnectMaxMs": 500, "connectionsPerNode": 4},
              "timeouts": {"commandMs": 250},
              "auth": {"passwordEnv": "REDIS_PW"},
              "database": 3
            }
            """
        let config = try ClusterConfig.parse(json, source: "opt.json")
        #expect(config.pool == PoolSettings(connectionsPerNode: 4, reconnectMin: .milliseconds(10), reconnectMax: .milliseconds(500)))
        #expect(config.timeouts == TimeoutSettings(connect: .seconds(1), command: .milliseconds(250)))
        #expect(config.auth == AuthSettings(username: nil, passwordEnv: "REDIS_PW"))
        #expect(config.database == 3)
        #expect(config.nodes[0].slots == [0...100, 101...16383])
    }

    @Test("load(path:) reads a file and names messages after the path")
    func loadsFromFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seckill-routing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let good = directory.appendingPathComponent("cluster.json")
        try Data(exampleJSON.utf8).write(to: good)
        let config = try ClusterConfig.load(path: good.path)
        #expect(config.nodes.count == 3)
        #expect(config.source == good.path)

        let bad = directory.appendingPathComponent("bad.json")
        try Data(exampleJSON.replacingOccurrences(of: "7001", with: "70001").utf8).write(to: bad)
        #expect(throws: ConfigError.self) { try ClusterConfig.load(path: bad.path) }
        do {
            _ = try ClusterConfig.load(path: bad.path)
        } catch {
            #expect(error.code == .invalid)
            #expect(error.problems == ["\(bad.path): nodes[1].port: 70001 is out of range 1-65535"])
        }
    }

    @Test("a missing file is reported with its path")
    func missingFile() {
        let path = "/nonexistent-\(UUID().uuidString)/cluster.json"
        do {
            _ = try ClusterConfig.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .fileNotFound)
            #expect(
                error.description
                    == "\(path): file not found; pass the right path or create one with `seckill config init --nodes HOST:PORT,...`")
        }
    }

    @Test("a directory is reported as unreadable")
    func directoryInsteadOfFile() {
        let path = FileManager.default.temporaryDirectory.path
        do {
            _ = try ClusterConfig.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description.hasPrefix(path + ": "))
        }
    }

    @Test("a JSON syntax error names the file, line and column")
    func syntaxErrorNamesFile() {
        let json = """
            {
              "nodes": [
                {"name": "node-a", "host": "127.0.0.1", "port": 7000, "slots": [[0, 16383]]},
              ]
            }
            """
        do {
            _ = try ClusterConfig.parse(json, source: "cluster.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .syntax)
            #expect(error.problems == ["cluster.json: line 4, column 3: trailing comma before ']' is not allowed in JSON"])
        }
    }

    @Test("the password is read from the environment variable auth.passwordEnv names")
    func passwordFromEnvironment() throws {
        let auth = AuthSettings(username: "default", passwordEnv: "SECKILL_REDIS_PASSWORD")
        #expect(try auth.password(environment: ["SECKILL_REDIS_PASSWORD": "s3cret"]) == "s3cret")
        do {
            _ = try auth.password(environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .missingPassword)
            #expect(error.description.hasPrefix("environment variable SECKILL_REDIS_PASSWORD is not set"))
        }
        do {
            _ = try auth.password(environment: ["SECKILL_REDIS_PASSWORD": ""])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .missingPassword)
            #expect(error.description.hasPrefix("environment variable SECKILL_REDIS_PASSWORD is empty"))
        }
    }

    @Test("configs built in code validate like files")
    func programmaticConfig() throws {
        let good = ClusterConfig(nodes: threeNodes([0...5460], [5461...10922], [10923...16383]))
        #expect(try good.validated() == good)
        #expect(good.validationProblems.isEmpty)

        var bad = good
        bad.nodes[2].slots = [10923...16384]
        bad.pool.connectionsPerNode = 0
        bad.timeouts.command = .zero
        bad.database = -1
        bad.source = "code"
        #expect(
            bad.validationProblems == [
                "code: nodes[2].slots[0]: end 16384 is out of range 0-16383",
                "code: pool.connectionsPerNode: must be positive, got 0",
                "code: timeouts.commandMs: must be positive, got 0",
                "code: database: must be 0 or greater, got -1",
            ])
        #expect(throws: ConfigError.self) { try bad.validated() }
    }
}
