import SeckillRouting
import SeckillTestSupport
import Testing

/// `seckill slot KEY...` against the three-node even config.
@Suite("seckill slot")
struct SlotCommandTests {
    let directory: TemporaryDirectory
    let config: String

    init() throws {
        directory = try TemporaryDirectory()
        config = try directory.write("cluster.json", ClusterFile.threeNodes())
    }

    func slots(_ keys: [String]) async throws -> [(key: String, slot: Int, node: String)] {
        let run = await CLIRun.run(["slot", "--config", config, "--json", "--"] + keys)
        #expect(run.status == 0, "\(run.stderr)")
        return try run.jsonArray().map { row in
            #expect(Set(row.keys) == ["key", "slot", "node"])
            return (row.string("key") ?? "?", Int(row.number("slot") ?? -1), row.string("node") ?? "?")
        }
    }

    @Test("--json gives the Redis Cluster slots of foo, bar and a hash-tagged key with their nodes")
    func knownSlots() async throws {
        let rows = try await slots(["foo", "bar", "{user1000}.following", "user1000"])
        #expect(rows.map(\.key) == ["foo", "bar", "{user1000}.following", "user1000"])
        #expect(rows.map(\.slot) == [12182, 5061, 3443, 3443])
        #expect(rows.map(\.node) == ["node-c", "node-a", "node-a", "node-a"])
    }

    @Test("keys on each side of every range boundary go to the owning node")
    func boundaries() async throws {
        // Keys whose slots are 5460, 5461, 10922 and 10923, found with the library's CRC16.
        var keysBySlot: [Int: String] = [:]
        var index = 0
        while keysBySlot.count < 4 {
            let key = "k\(index)"
            let slot = Int(HashSlot(key: key).rawValue)
            if [5460, 5461, 10922, 10923].contains(slot), keysBySlot[slot] == nil { keysBySlot[slot] = key }
            index += 1
        }
        let rows = try await slots([5460, 5461, 10922, 10923].map { keysBySlot[$0]! })
        #expect(rows.map(\.slot) == [5460, 5461, 10922, 10923])
        #expect(rows.map(\.node) == ["node-a", "node-b", "node-b", "node-c"])
    }

    @Test("hash tags agree with CLUSTER KEYSLOT of a real cluster-enabled redis-server")
    func hashTagsMatchRedis() async throws {
        let server = try RedisServer(cluster: true)
        defer { server.stop() }
        let keys = [
            "{user1000}.following", "{user1000}.followers", "foo{}{bar}", "foo{{bar}}zap",
            "foo{bar}{zap}", "{}", "{", "}{x}", "a{b", "", "item:{42}", "-dash", "ключ{标签}",
        ]
        let rows = try await slots(keys)
        #expect(rows.count == keys.count)
        for (key, row) in zip(keys, rows) {
            let expected = Int(try server.cli("CLUSTER", "KEYSLOT", key).trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(row.key == key)
            #expect(row.slot == expected, "slot of \(key)")
        }
        let tagged = rows.filter { $0.key.hasPrefix("{user1000}") }
        #expect(tagged.allSatisfy { $0.slot == 3443 })
    }

    @Test("-- lets keys start with a dash, even ones that look like options")
    func dashKeys() async throws {
        let rows = try await slots(["-foo", "--json", "-h"])
        #expect(rows.map(\.key) == ["-foo", "--json", "-h"])
        #expect(rows.map(\.slot) == ["-foo", "--json", "-h"].map { Int(HashSlot(key: $0).rawValue) })
        #expect(rows[0].slot == 8542)
    }

    @Test("a dash key without -- is an unknown option, exit 2")
    func dashKeyWithoutSeparator() async {
        let run = await CLIRun.run(["slot", "--config", config, "-foo"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown option -foo"))
        #expect(run.stderr.contains("seckill slot --help"))
    }

    @Test("no keys is a usage error, exit 2, one line on stderr")
    func noKeys() async {
        for arguments in [["slot", "--config", config], ["slot", "--config", config, "--json", "--"]] {
            let run = await CLIRun.run(arguments)
            #expect(run.status == 2)
            #expect(run.stdout.isEmpty)
            #expect(run.stderrLines == ["seckill: slot: give at least one KEY (see seckill slot --help)"])
        }
    }

    @Test("text output has a header and one row per key with slot, node and address")
    func textOutput() async {
        let run = await CLIRun.run(["slot", "--config", config, "foo", "bar", "{user1000}.following"])
        #expect(run.status == 0)
        let lines = run.stdoutLines
        #expect(lines.count == 4)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["KEY", "SLOT", "NODE", "ADDRESS"])
        let cells = lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(
            cells == [
                ["foo", "12182", "node-c", "127.0.0.1:7002"],
                ["bar", "5061", "node-a", "127.0.0.1:7000"],
                ["{user1000}.following", "3443", "node-a", "127.0.0.1:7000"],
            ])
    }

    @Test("the same key given twice is listed twice")
    func repeatedKeys() async throws {
        let rows = try await slots(["foo", "foo"])
        #expect(rows.map(\.slot) == [12182, 12182])
    }

    @Test("an invalid config fails with exit 1 and one line naming the file's first problem")
    func invalidConfig() async throws {
        let bad = try directory.write("gap.json", ClusterFile.threeNodes(ranges: [0...5460, 5471...10922, 10923...16383]))
        let run = await CLIRun.run(["slot", "--config", bad, "foo"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines == ["seckill: \(bad): slots 5461-5470 are not assigned to any node"])
    }
}
