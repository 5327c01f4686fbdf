import SeckillTransport

/// The `seckill` command line: parses arguments, runs one command, returns the exit status.
public enum SeckillCommandLine {
    private struct Entry {
        let spec: CommandSpec
        let run: (Arguments, Console) async throws(CLIError) -> Void
    }

    private static var entries: [Entry] {
        [
            Entry(spec: NodesCommand.spec, run: NodesCommand.run),
            Entry(spec: SlotCommand.spec, run: SlotCommand.run),
            Entry(spec: ConfigCommand.checkSpec, run: ConfigCommand.check),
            Entry(spec: ConfigCommand.initSpec, run: ConfigCommand.initialize),
            Entry(spec: ConfigCommand.nodesSpec, run: ConfigCommand.nodes),
            Entry(spec: ConfigCommand.authSpec, run: ConfigCommand.auth),
            Entry(spec: DistributionCommand.spec, run: DistributionCommand.run),
            Entry(spec: PlanCommand.spec, run: PlanCommand.run),
            Entry(spec: ItemCommands.publishSpec, run: ItemCommands.publish),
            Entry(spec: ItemCommands.unpublishSpec, run: ItemCommands.unpublish),
            Entry(spec: ItemCommands.restockSpec, run: ItemCommands.restock),
            Entry(spec: ItemCommands.buySpec, run: ItemCommands.buy),
            Entry(spec: ItemCommands.cancelSpec, run: ItemCommands.cancel),
            Entry(spec: PaymentCommands.paySpec, run: PaymentCommands.pay),
            Entry(spec: PaymentCommands.sweepSpec, run: PaymentCommands.sweep),
            Entry(spec: PaymentCommands.pendingSpec, run: PaymentCommands.pending),
            Entry(spec: StatusCommands.statusSpec, run: StatusCommands.status),
            Entry(spec: StatusCommands.buyersSpec, run: StatusCommands.buyers),
            Entry(spec: SaleCommand.spec, run: SaleCommand.run),
            Entry(spec: RetryCommand.spec, run: RetryCommand.run),
            Entry(spec: ClusterCommand.statusSpec, run: ClusterCommand.status),
            Entry(spec: BenchCommand.spec, run: BenchCommand.run),
            Entry(spec: ScriptsCommand.spec, run: ScriptsCommand.run),
            Entry(spec: BenchTransportCommand.spec, run: BenchTransportCommand.run),
            Entry(spec: AuditCommand.spec, run: AuditCommand.run),
        ] + OrdersCommand.entries.map { Entry(spec: $0.spec, run: $0.run) }
    }

    /// Every command's spec, in the order of the overview.
    static var specs: [CommandSpec] { entries.map(\.spec) }

    static var overview: String {
        var lines = [
            "seckill: flash sales of many items over several Redis nodes, routed by Redis Cluster hash slot.",
            "",
            "Usage: seckill COMMAND [OPTIONS]",
            "",
            "Commands:",
        ]
        let width = entries.map(\.spec.name.count).max() ?? 0
        for entry in entries {
            lines.append("  " + entry.spec.name + String(repeating: " ", count: width - entry.spec.name.count) + "  " + entry.spec.summary)
        }
        lines += [
            "", "Run seckill COMMAND --help for a command's options. The config defaults to ./cluster.json.",
            "Every command takes --log-level trace|debug|info|warning|error: the library's log lines go to standard error.",
        ]
        return lines.joined(separator: "\n")
    }

    /// Runs the command named by `arguments` (without the program name).
    ///
    /// - Parameters:
    ///   - commandLine: The command line after `seckill`; `--log-level LEVEL` may appear anywhere before `--`.
    ///   - console: Where output goes.
    /// - Returns: 0 on success, 1 on failure, 2 on a usage error.
    public static func run(_ commandLine: [String], console: Console) async -> Int32 {
        let arguments: [String]
        let logger: SeckillLogger
        do {
            let (rest, level) = try CLILogging.extract(from: commandLine)
            arguments = rest
            logger = level.map { SeckillLogger(handler: StandardErrorLogHandler(console: console), level: $0) } ?? .disabled
        } catch {
            console.err("seckill: \(error.message)")
            return error.status
        }
        return await CLILogging.$logger.withValue(logger) { await dispatch(arguments, console: console) }
    }

    private static func dispatch(_ arguments: [String], console: Console) async -> Int32 {
        guard let first = arguments.first else {
            console.err(overview)
            return 2
        }
        if first == "--help" || first == "-h" || first == "help" {
            console.out(overview)
            return 0
        }
        // Two-word commands first ("config check"), then one-word ones.
        let (entry, rest): (Entry?, ArraySlice<String>) = {
            if arguments.count >= 2, let entry = entries.first(where: { $0.spec.name == "\(arguments[0]) \(arguments[1])" }) {
                return (entry, arguments.dropFirst(2))
            }
            return (entries.first { $0.spec.name == first }, arguments.dropFirst())
        }()
        guard let entry else {
            let group = entries.filter { $0.spec.name.hasPrefix(first + " ") }.map(\.spec.name)
            if !group.isEmpty {
                let message = arguments.count == 1 ? "needs a subcommand" : "unknown subcommand \(arguments[1])"
                console.err("seckill: \(first) \(message): use \(group.joined(separator: " or "))")
            } else {
                console.err("seckill: unknown command \(first) (run seckill --help for the list)")
            }
            return 2
        }
        do {
            let parsed = try Arguments(Array(rest), spec: entry.spec)
            if parsed.wantsHelp {
                console.out(entry.spec.help)
                return 0
            }
            try await entry.run(parsed, console)
            return 0
        } catch {
            console.err("seckill: \(error.message)")
            return error.status
        }
    }
}
