import Testing

/// `seckill distribution`: how item keys spread over the nodes of a config.
@Suite("seckill distribution")
struct DistributionCommandTests {
    let directory: TemporaryDirectory
    let even: String
    let uneven: String

    init() throws {
        directory = try TemporaryDirectory()
        even = try directory.write("even.json", ClusterFile.threeNodes())
        uneven = try directory.write("uneven.json", ClusterFile.threeNodes(ranges: ClusterFile.unevenRanges))
    }

    struct NodeShare {
        var name: String
        var items: Int
        var share: Double
        var expectedShare: Double
        var deviation: Double
    }

    /// Runs `distribution --json` and checks the shape of the report.
    func report(
        config: String, items: Int = 100_000, pattern: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (object: [String: Any], nodes: [NodeShare]) {
        var arguments = ["distribution", "--config", config, "--items", String(items), "--json"]
        if let pattern { arguments += ["--pattern", pattern] }
        let run = await CLIRun.run(arguments)
        #expect(run.status == 0, "\(run.stderr)", sourceLocation: sourceLocation)
        let object = try run.jsonObject(sourceLocation: sourceLocation)
        for key in ["items", "pattern", "nodes", "maxDeviation", "chiSquare", "degreesOfFreedom"] {
            #expect(object[key] != nil, "missing \(key)", sourceLocation: sourceLocation)
        }
        #expect(object.number("items") == Double(items), sourceLocation: sourceLocation)
        #expect(object.number("degreesOfFreedom") == 16383, sourceLocation: sourceLocation)
        let rows = try #require(object["nodes"] as? [[String: Any]], sourceLocation: sourceLocation)
        let nodes = try rows.map { row in
            #expect(Set(row.keys) == ["name", "items", "share", "expectedShare", "deviation"], sourceLocation: sourceLocation)
            return NodeShare(
                name: try #require(row.string("name"), sourceLocation: sourceLocation),
                items: Int(try #require(row.number("items"), sourceLocation: sourceLocation)),
                share: try #require(row.number("share"), sourceLocation: sourceLocation),
                expectedShare: try #require(row.number("expectedShare"), sourceLocation: sourceLocation),
                deviation: try #require(row.number("deviation"), sourceLocation: sourceLocation))
        }
        #expect(nodes.map(\.name) == ["node-a", "node-b", "node-c"], sourceLocation: sourceLocation)
        #expect(nodes.map(\.items).reduce(0, +) == items, sourceLocation: sourceLocation)
        return (object, nodes)
    }

    /// Every node's share is within 2 percentage points of `shares`, and the report's own
    /// expected shares match the slot map.
    func expectShares(
        _ nodes: [NodeShare], near shares: [Double], total: Int = 100_000,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (node, expected) in zip(nodes, shares) {
            #expect(abs(node.share - expected) <= 0.02, "\(node.name): \(node.share) vs \(expected)", sourceLocation: sourceLocation)
            #expect(abs(node.expectedShare - expected) <= 0.001, "\(node.name) expected share", sourceLocation: sourceLocation)
            #expect(abs(node.share - Double(node.items) / Double(total)) <= 0.001, sourceLocation: sourceLocation)
        }
    }

    @Test("100,000 items over the even config: each node within ±2 points of 33.33%")
    func evenSpread() async throws {
        let (object, nodes) = try await report(config: even)
        #expect(object.string("pattern") == "item:{%d}")
        expectShares(nodes, near: [1.0 / 3, 1.0 / 3, 1.0 / 3])
        let maxDeviation = try #require(object.number("maxDeviation"))
        #expect(maxDeviation >= 0 && maxDeviation <= 0.02)
        // Well-spread keys give a chi-square near its degrees of freedom.
        let chiSquare = try #require(object.number("chiSquare"))
        #expect(chiSquare > 16383 * 0.8 && chiSquare < 16383 * 1.3, "chi-square \(chiSquare)")
    }

    @Test("the uneven 50/30/20 config: each node within ±2 points of its share of slots")
    func unevenSpread() async throws {
        let (_, nodes) = try await report(config: uneven)
        expectShares(nodes, near: [0.5, 0.3, 0.2])
    }

    @Test("other key patterns spread evenly too", arguments: ["sku", "uuid", "sku:1999", "uuid:7", "sequential", "stock:{sku-%d}"])
    func patterns(pattern: String) async throws {
        let (object, nodes) = try await report(config: even, items: 30_000, pattern: pattern)
        #expect(object.string("pattern") == pattern)
        expectShares(nodes, near: [1.0 / 3, 1.0 / 3, 1.0 / 3], total: 30_000)
    }

    @Test("one node holding every slot gets every item")
    func singleNode() async throws {
        let path = try directory.write("one.json", ClusterFile.text([.init(name: "solo", port: 7000, slots: [0...16383])]))
        let run = await CLIRun.run(["distribution", "--config", path, "--items", "1000", "--json"])
        #expect(run.status == 0)
        let nodes = try #require(try run.jsonObject()["nodes"] as? [[String: Any]])
        #expect(nodes.count == 1)
        #expect(nodes.first?.number("items") == 1000)
        #expect(nodes.first?.number("share") == 1)
        #expect(nodes.first?.number("deviation") == 0)
    }

    @Test("an unknown pattern is a usage error, exit 2, naming the pattern")
    func badPattern() async {
        let run = await CLIRun.run(["distribution", "--config", even, "--pattern", "bogus"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: distribution: --pattern: unknown key pattern \"bogus\""))
        #expect(run.stderr.contains("item:{%d}"))
    }

    @Test(
        "pattern arguments out of range are usage errors",
        arguments: [
            ("sku:99999", "the year must be 0-9999"),
            ("uuid:-1", "the seed must be a non-negative integer"),
        ])
    func badPatternArgument(pattern: String, message: String) async {
        let run = await CLIRun.run(["distribution", "--config", even, "--pattern", pattern])
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    @Test("--items outside 1...100,000,000 or not a number is a usage error", arguments: ["0", "-5", "100000001", "lots"])
    func badItems(items: String) async {
        let run = await CLIRun.run(["distribution", "--config", even, "--items", items])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--items must be an integer from 1 to 100000000, got \"\(items)\""), "\(run.stderr)")
    }

    @Test("--items accepts digit separators")
    func groupedItems() async throws {
        let run = await CLIRun.run(["distribution", "--config", even, "--items", "10_000", "--json"])
        #expect(run.status == 0)
        #expect(try run.jsonObject().number("items") == 10_000)
    }

    @Test("text output has a row per node with a bar of █ proportional to its share")
    func textBars() async throws {
        let run = await CLIRun.run(["distribution", "--config", uneven, "--items", "20000"])
        #expect(run.status == 0)
        #expect(run.stdoutLines.first == "20,000 item keys (pattern item:{%d}) over 3 nodes:")
        let bars = ["node-a", "node-b", "node-c"].map { name in
            run.stdoutLines.first { $0.hasPrefix(name + " ") }.map { $0.filter { $0 == "█" }.count } ?? 0
        }
        // The widest share gets the full 40 cells; 30% and 20% get about 24 and 16.
        #expect(bars[0] == 40)
        #expect((22...26).contains(bars[1]), "\(bars)")
        #expect((14...18).contains(bars[2]), "\(bars)")
        #expect(run.stdout.contains("largest deviation: "))
        #expect(run.stdout.contains("with 16383 degrees of freedom"))
    }

    @Test("a missing config fails with exit 1 naming the path")
    func missingConfig() async {
        let path = directory.file("nope.json")
        let run = await CLIRun.run(["distribution", "--config", path])
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: \(path): file not found"))
    }
}
