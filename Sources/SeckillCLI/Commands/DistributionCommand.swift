import SeckillRouting

/// `seckill distribution`: how item keys spread over the nodes of the config.
enum DistributionCommand {
    static let spec = CommandSpec(
        name: "distribution",
        summary:
            "Routes N item keys and prints per node the item count, its share, the expected share from the slot map, and a chi-square statistic over slots.",
        usage: "[--config FILE] [--items N] [--pattern PATTERN] [--json]",
        options: [
            ConfigLoading.option,
            ("--items", "N: how many item keys (default 100000)"),
            ("--pattern", "PATTERN: item:{%d} (default), sequential, uuid[:SEED], sku[:YEAR], or any template with %d"),
        ],
        flags: [("--json", "Print the report as JSON.")],
        details:
            "A node's expected share is its share of the 16384 slots. For well-spread keys the chi-square\nstatistic is close to its degrees of freedom (16383)."
    )

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        let count = try arguments.integer("--items", default: 100_000, in: 1...100_000_000)
        let patternText = arguments.value("--pattern") ?? "item:{%d}"
        let pattern: KeyPattern
        do {
            pattern = try KeyPattern(parsing: patternText)
        } catch {
            throw CLIError.usage("distribution", "--pattern: \(ConfigLoading.oneLine(error))")
        }
        let config = try ConfigLoading.load(arguments)
        let map = try await ConfigLoading.slotMap(config)
        let report = DistributionReport(map: map, pattern: pattern, count: count)

        if arguments.flag("--json") {
            console.out(
                JSONOutput.object([
                    ("items", .int(count)), ("pattern", .string(patternText)),
                    (
                        "nodes",
                        .array(
                            report.nodes.map { share in
                                .object([
                                    ("name", .string(share.node.name)), ("items", .int(share.keyCount)),
                                    ("share", .double(share.share)), ("expectedShare", .double(share.expectedShare)),
                                    ("deviation", .double(share.deviation)),
                                ])
                            })
                    ),
                    ("maxDeviation", .double(report.maxAbsoluteDeviation)),
                    ("chiSquare", .double(report.chiSquare)), ("degreesOfFreedom", .int(report.degreesOfFreedom)),
                    ("occupiedSlots", .int(report.occupiedSlots)),
                ]).render())
            return
        }
        console.out(
            "\(Format.grouped(count)) item keys (pattern \(patternText)) over \(report.nodes.count) node\(report.nodes.count == 1 ? "" : "s"):"
        )
        let widest = report.nodes.map(\.share).max() ?? 0
        var table = Table(header: ["NODE", "ITEMS", "SHARE", "EXPECTED", "DEVIATION", ""], rightAligned: [1, 2, 3, 4])
        for share in report.nodes {
            let points = Format.fixed(share.deviation * 100, 2)
            let deviation = points.hasPrefix("-") || points == "0.00" ? points : "+" + points
            table.add([
                share.node.name, Format.grouped(share.keyCount), Format.percent(share.share),
                Format.percent(share.expectedShare), deviation, Format.bar(share.share, of: widest),
            ])
        }
        for line in table.render() { console.out(line) }
        console.out("largest deviation: \(Format.fixed(report.maxAbsoluteDeviation * 100, 2)) percentage points")
        console.out(
            "chi-square over \(Format.grouped(16384)) slots: \(Format.fixed(report.chiSquare, 1)) with \(report.degreesOfFreedom) degrees of freedom (\(Format.fixed(report.chiSquarePerDegreeOfFreedom, 3)) per degree; about 1 for an even spread), \(Format.grouped(report.occupiedSlots)) slots hold keys"
        )
    }
}
