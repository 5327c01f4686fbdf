import SeckillRouting

/// `seckill config nodes` and `seckill config auth`: the parts of cluster.json the scripts
/// need, one record a line, so a shell reads them with `read` instead of parsing JSON.
extension ConfigCommand {
    static let nodesSpec = CommandSpec(
        name: "config nodes",
        summary: "Prints one line per node of the config, NAME HOST PORT (for scripts).",
        usage: "[--config FILE]",
        options: [ConfigLoading.option],
        details:
            "The config is validated first. A config in cluster mode has no fixed nodes (they are discovered from its seeds): the command then fails and names the seeds."
    )

    static let authSpec = CommandSpec(
        name: "config auth",
        summary: "Prints the config's auth settings as one line, PASSWORD_ENV USERNAME, or nothing without auth (for scripts).",
        usage: "[--config FILE]",
        options: [ConfigLoading.option],
        details: "USERNAME is `default` when the config names no user. The password itself is never printed.")

    static func nodes(_ arguments: Arguments, console: Console) throws(CLIError) {
        try arguments.noPositionals()
        let config = try ConfigLoading.load(arguments)
        guard config.mode != .cluster else {
            let seeds = config.seeds.map(\.description).joined(separator: ", ")
            throw CLIError(
                "\(config.source) is in cluster mode: it has no fixed nodes (they are discovered from the seeds \(seeds)); start a cluster with scripts/cluster.sh"
            )
        }
        for node in config.nodes {
            // Validation keeps whitespace out of hosts, but not out of names.
            guard !node.name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw CLIError(
                    "\(config.source): node name \(JSONWriter.quoted(node.name)) contains whitespace, so it cannot be printed as one field")
            }
            console.out("\(node.name) \(node.host) \(node.port)")
        }
    }

    static func auth(_ arguments: Arguments, console: Console) throws(CLIError) {
        try arguments.noPositionals()
        let config = try ConfigLoading.load(arguments)
        guard let auth = config.auth else { return }
        let user = auth.username ?? "default"
        guard !user.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw CLIError(
                "\(config.source): auth.username \(JSONWriter.quoted(user)) contains whitespace, so it cannot be printed as one field")
        }
        console.out("\(auth.passwordEnv) \(user)")
    }
}
