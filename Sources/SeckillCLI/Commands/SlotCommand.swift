import SeckillRouting

/// `seckill slot KEY...`: the hash slot and owning node of each key.
enum SlotCommand {
    static let spec = CommandSpec(
        name: "slot",
        summary: "Prints the Redis Cluster hash slot of each key and the node that owns it.",
        usage: "[--config FILE] [--json] [--] KEY...",
        options: [ConfigLoading.option],
        flags: [("--json", "Print a JSON array of {key, slot, node}.")],
        details:
            "Slots follow the Redis Cluster rule: CRC16 of the key, or of its {hash tag}, mod 16384.\nUse -- before keys that start with a dash."
    )

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        guard !arguments.positionals.isEmpty else { throw CLIError.usage("slot", "give at least one KEY") }
        let config = try ConfigLoading.load(arguments)
        let router = SlotRouter(map: try await ConfigLoading.slotMap(config))
        let rows = arguments.positionals.map { key in
            let slot = router.slot(forKey: key)
            return (key, slot, router.node(for: slot))
        }
        if arguments.flag("--json") {
            console.out(
                JSONOutput.array(
                    rows.map { key, slot, node in
                        .object([("key", .string(key)), ("slot", .int(Int(slot.rawValue))), ("node", .string(node.name))])
                    }
                ).render())
        } else {
            var table = Table(header: ["KEY", "SLOT", "NODE", "ADDRESS"], rightAligned: [1])
            for (key, slot, node) in rows {
                table.add([key, String(slot.rawValue), node.name, node.endpoint.address])
            }
            for line in table.render() { console.out(line) }
        }
    }
}
