/// `seckill orders ...`: the subcommands of the order hand-off, each in a file of its own
/// (`orders drain` in OrdersDrainCommand.swift). ``SeckillCommandLine`` lists these after its own.
enum OrdersCommand {
    /// Every `orders` subcommand: its spec and what runs it.
    static var entries: [(spec: CommandSpec, run: (Arguments, Console) async throws(CLIError) -> Void)] {
        [
            (OrdersDrainCommand.spec, OrdersDrainCommand.run)
        ]
    }
}
