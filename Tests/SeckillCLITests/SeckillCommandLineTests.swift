import Testing

/// Dispatch, help and argument errors shared by every command.
@Suite("seckill command line")
struct SeckillCommandLineTests {
    static let commands = ["nodes", "slot", "config check", "config init", "distribution", "bench-transport"]

    @Test("every command's --help exits 0 and starts with its usage line", arguments: commands)
    func commandHelp(name: String) async {
        let words = name.split(separator: " ").map(String.init)
        for help in ["--help", "-h"] {
            let run = await CLIRun.run(words + [help])
            #expect(run.status == 0)
            #expect(run.stdout.hasPrefix("Usage: seckill \(name) "), "\(name) \(help): \(run.stdout)")
            #expect(run.stdout.contains("Options:"))
            #expect(run.stdout.contains("--help"))
            #expect(run.stderr.isEmpty)
        }
    }

    /// The command names in the `Commands:` section of `seckill --help`.
    static func listedCommands() async -> [String] {
        let overview = await CLIRun.run(["--help"]).stdoutLines
        guard let start = overview.firstIndex(of: "Commands:") else { return [] }
        // "  config check     Validates ...": the name ends at the first run of two spaces.
        return overview[(start + 1)...].prefix { $0.hasPrefix("  ") }.compactMap { line in
            line.dropFirst(2).components(separatedBy: "  ").first
        }
    }

    @Test("every command listed by seckill --help accepts --help and rejects an unknown option")
    func everyListedCommand() async {
        let listed = await Self.listedCommands()
        #expect(Set(Self.commands).isSubset(of: listed), "\(listed)")
        for name in listed {
            let words = name.split(separator: " ").map(String.init)
            let help = await CLIRun.run(words + ["--help"])
            #expect(help.status == 0, "\(name) --help")
            #expect(help.stdout.hasPrefix("Usage: seckill \(name) "), "\(name): \(help.stdout)")
            let unknown = await CLIRun.run(words + ["--frobnicate"])
            #expect(unknown.status == 2, "\(name) --frobnicate")
            #expect(unknown.stderrLines == ["seckill: \(name): unknown option --frobnicate (see seckill \(name) --help)"])
        }
    }

    @Test("--help wins over other arguments, even bad ones")
    func helpBeforeValidation() async {
        let run = await CLIRun.run(["distribution", "--items", "not-a-number", "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("Usage: seckill distribution "))
    }

    @Test("seckill --help, -h and help list every command", arguments: ["--help", "-h", "help"])
    func overviewListsCommands(flag: String) async {
        let run = await CLIRun.run([flag])
        #expect(run.status == 0)
        #expect(run.stdout.contains("Usage: seckill COMMAND"))
        for name in Self.commands {
            #expect(run.stdoutLines.contains { $0.hasPrefix("  \(name) ") }, "\(name) missing from: \(run.stdout)")
        }
        #expect(run.stderr.isEmpty)
    }

    @Test("no arguments prints the overview to stderr and exits 2")
    func noArguments() async {
        let run = await CLIRun.run([])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("Usage: seckill COMMAND"))
    }

    @Test("an unknown command exits 2 naming it")
    func unknownCommand() async {
        let run = await CLIRun.run(["frobnicate", "--json"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines == ["seckill: unknown command frobnicate (run seckill --help for the list)"])
    }

    @Test("an unknown option exits 2 naming the option", arguments: commands)
    func unknownOption(name: String) async {
        let run = await CLIRun.run(name.split(separator: " ").map(String.init) + ["--frobnicate"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.hasPrefix("seckill: \(name): unknown option --frobnicate"), "\(run.stderr)")
    }

    @Test("an unknown --option=value names the option without the value")
    func unknownInlineOption() async {
        let run = await CLIRun.run(["slot", "--colour=never", "foo"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown option --colour "))
        #expect(!run.stderr.contains("never"))
    }

    @Test("seckill config alone exits 2 and names every subcommand")
    func configNeedsSubcommand() async {
        let run = await CLIRun.run(["config"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines == ["seckill: config needs a subcommand: use config check or config init or config nodes or config auth"])
    }

    @Test("an unknown config subcommand exits 2 naming it")
    func unknownConfigSubcommand() async {
        let run = await CLIRun.run(["config", "frob"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown subcommand frob"))
        #expect(run.stderr.contains("config check or config init"))
    }

    @Test("an option missing its value exits 2")
    func optionWithoutValue() async {
        let run = await CLIRun.run(["slot", "foo", "--config"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--config needs a value"))
    }

    @Test("a flag given a value exits 2")
    func flagWithValue() async {
        let run = await CLIRun.run(["slot", "--json=yes", "foo"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--json takes no value"))
    }

    @Test("a command that takes no arguments rejects a stray one with exit 2")
    func strayPositional() async throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.threeNodes())
        let run = await CLIRun.run(["config", "check", "--config", config, "extra"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("unexpected argument \"extra\""))
    }

    @Test("--config=PATH works like --config PATH")
    func inlineOptionValue() async throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.threeNodes())
        let run = await CLIRun.run(["slot", "--config=\(config)", "--json", "foo"])
        #expect(run.status == 0)
        let rows = try run.jsonArray()
        #expect(rows.first?.number("slot") == 12182)
    }
}
