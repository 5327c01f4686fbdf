internal import Foundation
import SeckillRouting
import SeckillSale

/// `seckill config check` and `seckill config init` (`config nodes` and `config auth` are in ConfigCommand+Nodes.swift).
enum ConfigCommand {
    static let checkSpec = CommandSpec(
        name: "config check",
        summary: "Validates the cluster config and prints each node's slot ranges, slot count and share.",
        usage: "[--config FILE] [--json]",
        options: [ConfigLoading.option],
        flags: [("--json", "Print the summary (or the problems) as JSON.")],
        details:
            "Every problem is listed: gaps and overlaps in the slot map, bad ports, unknown fields, JSON syntax errors.\nBoth layers are checked: the routing settings and the sale layer's `sale` and `durability` sections.\nExits 0 only when the config is valid."
    )

    static let initSpec = CommandSpec(
        name: "config init",
        summary: "Writes a cluster config that splits the 16384 slots evenly over the given nodes, as redis-cli --cluster create does.",
        usage: "--nodes HOST:PORT,HOST:PORT,... [--output FILE] [--force]",
        options: [
            ("--nodes", "LIST: comma-separated HOST:PORT addresses, in slot order ([::1]:7000 for IPv6)"),
            ("--output", "FILE: where to write (default ./cluster.json)"),
        ],
        flags: [("--force", "Overwrite an existing file.")])

    static func check(_ arguments: Arguments, console: Console) throws(CLIError) {
        try arguments.noPositionals()
        let path = arguments.value("--config") ?? "cluster.json"
        let json = arguments.flag("--json")
        let saleConfig: SaleConfig
        do {
            // Both layers: the routing part, and the sale layer's `sale` and `durability`.
            saleConfig = try SaleConfig.load(path: path)
        } catch {
            if json {
                console.out(
                    JSONOutput.object([
                        ("config", .string(path)), ("valid", .bool(false)), ("problems", .array(error.problems.map { .string($0) })),
                    ]).render())
            } else {
                for problem in error.problems { console.out(problem) }
            }
            if error.code == .fileNotFound || error.code == .unreadable { throw CLIError(ConfigLoading.oneLine(error)) }
            let count = error.problems.count
            throw CLIError("\(path) is invalid: \(count) problem\(count == 1 ? "" : "s")")
        }
        let config = saleConfig.cluster
        let durability = saleConfig.durability
        if config.mode == .cluster {
            let seeds = config.seeds.map(\.description)
            if json {
                console.out(
                    JSONOutput.object([
                        ("config", .string(path)), ("valid", .bool(true)), ("mode", .string("cluster")),
                        ("seeds", .array(seeds.map { .string($0) })),
                    ]).render())
            } else {
                console.out(
                    "\(path): valid, cluster mode, seeds \(seeds.joined(separator: ", ")) (slots are read from the cluster: seckill cluster status)"
                )
                console.out(
                    "durability: \(durability.replicas == 0 ? "off" : "WAIT \(durability.replicas) replica(s), \(Format.duration(durability.timeout))")"
                )
            }
            return
        }
        let map = SlotMap(config: config)
        if json {
            console.out(
                JSONOutput.object([
                    ("config", .string(path)), ("valid", .bool(true)),
                    (
                        "nodes",
                        .array(
                            config.nodes.enumerated().map { index, node in
                                .object([
                                    ("name", .string(node.name)), ("host", .string(node.host)), ("port", .int(node.port)),
                                    (
                                        "ranges",
                                        .array(map.ranges(ofNode: index).map { .array([.int($0.lowerBound), .int($0.upperBound)]) })
                                    ),
                                    ("slots", .int(map.slotCount(ofNode: index))), ("share", .double(map.share(ofNode: index))),
                                ])
                            })
                    ),
                ]).render())
            return
        }
        console.out("\(path): valid, \(config.nodes.count) node\(config.nodes.count == 1 ? "" : "s"), all 16384 slots assigned once")
        var table = Table(header: ["NODE", "ADDRESS", "SLOTS", "SHARE", "RANGES"], rightAligned: [2, 3])
        for (index, node) in config.nodes.enumerated() {
            let ranges = map.ranges(ofNode: index).map {
                $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)"
            }
            table.add([
                node.name, node.endpoint.address, Format.grouped(map.slotCount(ofNode: index)),
                Format.percent(map.share(ofNode: index)), ranges.joined(separator: ", "),
            ])
        }
        for line in table.render() { console.out(line) }
        console.out(
            "pool: \(config.connectionsPerNode) connections/node, \(config.pool.maxInFlightPerNode) in flight/node, acquire timeout \(Format.duration(config.pool.acquireTimeout))"
        )
        console.out("timeouts: connect \(Format.duration(config.timeouts.connect)), command \(Format.duration(config.timeouts.command))")
        if let auth = config.auth {
            let set = ConfigLoading.environment[auth.passwordEnv].map { !$0.isEmpty } ?? false
            console.out(
                "auth: user \(auth.username ?? "(default)"), password from $\(auth.passwordEnv) (\(set ? "set" : "NOT SET in this environment"))"
            )
        }
    }

    static func initialize(_ arguments: Arguments, console: Console) throws(CLIError) {
        try arguments.noPositionals()
        guard let list = arguments.value("--nodes") else { throw CLIError.usage("config init", "--nodes is required") }
        let output = arguments.value("--output") ?? "cluster.json"
        let config: ClusterConfig
        do {
            let addresses = try NodeAddress.parseList(list)
            config = try ClusterConfig.evenlySharded(across: addresses, source: output)
        } catch {
            throw CLIError(error.problems.isEmpty ? error.description : error.problems.joined(separator: "; "))
        }
        let manager = FileManager.default
        if manager.fileExists(atPath: output) && !arguments.flag("--force") {
            throw CLIError("\(output) already exists; pass --force to overwrite it")
        }
        // Written to a temporary file then renamed, so a crash never leaves half a config.
        let temporary = output + ".tmp-\(getpid())"
        do {
            try Data(config.render().utf8).write(to: URL(fileURLWithPath: temporary))
            // rename(2) replaces atomically; Foundation's replaceItemAt deletes the original and fails on Linux (swift-corelibs-foundation#4655).
            if rename(temporary, output) != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw CLIError("cannot write \(output): \(error.localizedDescription)")
        }
        let map = SlotMap(config: config)
        console.out("wrote \(output): \(config.nodes.count) node\(config.nodes.count == 1 ? "" : "s")")
        for (index, node) in config.nodes.enumerated() {
            let range = map.ranges(ofNode: index).map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", ")
            console.out("  \(node.name)  \(node.endpoint.address)  slots \(range)  (\(map.slotCount(ofNode: index)))")
        }
    }
}
