import Testing

@testable import SeckillCLI

/// What every command's help says, checked across all commands at once.
@Suite("Command help texts")
struct CommandSpecTests {
    @Test("every option and flag a command's help lists is in its usage line too")
    func usageNamesEveryOption() {
        let specs = SeckillCommandLine.specs
        #expect(specs.count > 20)
        for spec in specs {
            for (name, _) in spec.options + spec.flags {
                #expect(spec.usage.contains(name), "seckill \(spec.name): the usage line does not name \(name): \(spec.usage)")
            }
        }
    }

    @Test("command names are unique")
    func uniqueNames() {
        let names = SeckillCommandLine.specs.map(\.name)
        #expect(Set(names).count == names.count)
    }
}
