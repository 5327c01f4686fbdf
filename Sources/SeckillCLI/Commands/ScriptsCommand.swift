import SeckillSale

/// `seckill scripts NAME`: the Lua source of a sale script, for operators and benchmarks.
enum ScriptsCommand {
    static let spec = CommandSpec(
        name: "scripts",
        summary: "Prints the Lua source of a sale script (purchase, cancel, publish, restock), e.g. for redis-cli SCRIPT LOAD.",
        usage: "[NAME]",
        details: "Without a name, lists the scripts.")

    static func run(_ arguments: Arguments, console: Console) throws(CLIError) {
        guard let name = arguments.positionals.first else {
            for script in SaleScript.allCases { console.out(script.rawValue) }
            return
        }
        guard arguments.positionals.count == 1 else { throw CLIError.usage("scripts", "give one script name") }
        guard let script = SaleScript(rawValue: name) else {
            throw CLIError.usage(
                "scripts", "no script named \(name); the scripts are \(SaleScript.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        console.out(script.source)
    }
}
