import Testing

@testable import SeckillRouting

/// The pure parts of ``SlotMigration``: batching keys by hash tag and reading the cluster's health.
@Suite("SlotMigration")
struct SlotMigrationTests {
    static func keys(_ names: [String]) -> [[UInt8]] { names.map { Array($0.utf8) } }

    @Test("batches never split the keys of one hash tag and stay within the size when they can")
    func batchesKeepTagsTogether() {
        let keys = Self.keys([
            "seckill:{a}", "seckill:{b}", "seckill:{a}:orders", "seckill:{c}", "seckill:{b}:buyers", "seckill:{a}:buyers", "plain",
        ])
        let batches = SlotMigration.batches(keys, size: 3)
        #expect(batches.flatMap { $0 }.count == keys.count)
        for tag in ["{a}", "{b}", "{c}"] {
            let holding = batches.filter { batch in batch.contains { String(decoding: $0, as: UTF8.self).contains(tag) } }
            #expect(holding.count == 1, "\(tag) is split over \(holding.count) batches")
        }
        #expect(batches.allSatisfy { $0.count <= 3 })
        // A tag with more keys than the batch size still moves in one call.
        let big = SlotMigration.batches(Self.keys((0..<5).map { "seckill:{z}:\($0)" }), size: 2)
        #expect(big.count == 1 && big[0].count == 5)
    }

    @Test("CLUSTER INFO fields are read as name and value")
    func infoFields() {
        let fields = SlotMigration.fields("cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_fail:0\r\n")
        #expect(fields["cluster_state"] == "ok")
        #expect(fields["cluster_slots_assigned"] == "16384")
        #expect(fields["cluster_slots_fail"] == "0")
    }

    @Test("CLUSTER NODES lines show open slots, failing nodes and links down; healthy lines show nothing")
    func nodeLines() {
        let healthy =
            "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922"
        #expect(SlotMigration.nodeLineProblems(Substring(healthy), seenBy: "x").isEmpty)
        let migrating =
            "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002,host2 myself,master - 0 1426238316232 2 connected 5461-10922 [5461->-e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca]"
        #expect(SlotMigration.nodeLineProblems(Substring(migrating), seenBy: "x") == ["slot 5461 is migrating on 127.0.0.1:30002"])
        let importing =
            "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 master - 0 1426238316232 1 connected 0-5460 [5461-<-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]"
        #expect(SlotMigration.nodeLineProblems(Substring(importing), seenBy: "x") == ["slot 5461 is importing on 127.0.0.1:30001"])
        let failing =
            "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail - 1426238316232 1426238316232 3 disconnected 10923-16383"
        let problems = SlotMigration.nodeLineProblems(Substring(failing), seenBy: "127.0.0.1:30001")
        #expect(problems.contains("127.0.0.1:30001 flags node 127.0.0.1:30003 as fail"))
        #expect(problems.contains { $0.contains("no cluster bus link to 127.0.0.1:30003") })
    }
}
