import SeckillRouting

/// `seckill cluster status`: the topology as the coordinator sees it.
enum ClusterCommand {
    static let statusSpec = CommandSpec(
        name: "cluster status",
        summary: "Shows the nodes of the cluster as the coordinator sees them: role, slot ranges, health.",
        usage: "[--config FILE] [--json]",
        options: [ConfigLoading.option],
        flags: [("--json", "Print a JSON array of {address, id, role, health, slots, ranges, primary}.")],
        details:
            "In cluster mode the topology comes from CLUSTER SHARDS (or CLUSTER SLOTS) through the seeds; in static\nmode the nodes and slots of the config are shown. Exits 1 when a node is not online."
    )

    struct Row {
        var address: String
        var id: String
        var role: String
        var health: String
        var ranges: [ClosedRange<Int>]
        var primary: String?
    }

    static func status(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        let config = try ConfigLoading.load(arguments)
        var rows: [Row] = []
        if config.mode == .cluster {
            let client = try await ConfigLoading.client(config)
            defer { client.close() }
            for shard in client.topology?.shards ?? [] {
                guard let primary = shard.primary else { continue }
                rows.append(
                    Row(
                        address: primary.address, id: primary.id, role: "primary", health: primary.health, ranges: shard.slots, primary: nil
                    ))
                for replica in shard.replicas {
                    rows.append(
                        Row(
                            address: replica.address, id: replica.id, role: "replica", health: replica.health, ranges: [],
                            primary: primary.address))
                }
            }
        } else {
            let map = SlotMap(config: config)
            for (index, node) in config.nodes.enumerated() {
                rows.append(
                    Row(
                        address: node.endpoint.address, id: node.name, role: "primary", health: "configured",
                        ranges: map.ranges(ofNode: index), primary: nil))
            }
        }
        if arguments.flag("--json") {
            console.out(
                JSONOutput.array(
                    rows.map { row in
                        .object([
                            ("address", .string(row.address)), ("id", .string(row.id)), ("role", .string(row.role)),
                            ("health", .string(row.health)), ("slots", .int(row.ranges.reduce(0) { $0 + $1.count })),
                            ("ranges", .array(row.ranges.map { .array([.int($0.lowerBound), .int($0.upperBound)]) })),
                            ("primary", .optional(row.primary)),
                        ])
                    }
                ).render())
        } else {
            var table = Table(header: ["ADDRESS", "ROLE", "HEALTH", "SLOTS", "RANGES / PRIMARY", "ID"], rightAligned: [3])
            for row in rows {
                let ranges = row.ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
                table.add([
                    row.address, row.role, row.health, Format.grouped(row.ranges.reduce(0) { $0 + $1.count }),
                    row.primary.map { "replica of \($0)" } ?? ranges.joined(separator: ", "), String(row.id.prefix(12)),
                ])
            }
            for line in table.render() { console.out(line) }
        }
        if let bad = rows.first(where: { $0.health != "online" && $0.health != "configured" }) {
            throw CLIError("node \(bad.address) (\(bad.role)) is \(bad.health)")
        }
    }
}
