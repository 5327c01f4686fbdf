import SeckillRESP
import SeckillRouting
import SeckillTransport

/// `seckill nodes`: is every node of the config reachable, which version, how fast.
enum NodesCommand {
    static let spec = CommandSpec(
        name: "nodes",
        summary: "Checks every node of the config: reachable or the error, Redis version, round-trip latency.",
        usage: "[--config FILE] [--json]",
        options: [ConfigLoading.option],
        flags: [("--json", "Print a JSON array of {name, host, port, reachable, version, latencyMs, error}.")],
        details: "Exits 1 when any node is unreachable.")

    struct Probe: Sendable {
        var node: NodeConfig
        var version: String?
        var latencyMs: Double?
        var error: String?
        var reachable: Bool { error == nil }
    }

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        let config = try ConfigLoading.load(arguments)
        let connection: ConnectionOptions
        do {
            connection = try config.connectionOptions(environment: ConfigLoading.environment)
        } catch {
            throw CLIError(ConfigLoading.oneLine(error))
        }
        // In cluster mode every node of the discovered topology, replicas included.
        let nodes: [NodeConfig]
        if config.mode == .cluster {
            let client = try await ConfigLoading.client(config)
            nodes = client.topology?.allNodes.map(\.nodeConfig) ?? client.nodes
        } else {
            nodes = config.nodes
        }
        let probes = await withTaskGroup(of: (Int, Probe).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask { (index, await probe(node, connection: connection)) }
            }
            var results = [Probe?](repeating: nil, count: nodes.count)
            for await (index, probe) in group { results[index] = probe }
            return results.map { $0! }
        }

        if arguments.flag("--json") {
            let array = JSONOutput.array(
                probes.map { probe in
                    .object([
                        ("name", .string(probe.node.name)), ("host", .string(probe.node.host)), ("port", .int(probe.node.port)),
                        ("reachable", .bool(probe.reachable)), ("version", .optional(probe.version)),
                        ("latencyMs", .optional(probe.latencyMs)), ("error", .optional(probe.error)),
                    ])
                })
            console.out(array.render())
        } else {
            var table = Table(header: ["NODE", "ADDRESS", "STATUS", "VERSION", "LATENCY", "ERROR"])
            for probe in probes {
                table.add([
                    probe.node.name, probe.node.endpoint.address, probe.reachable ? "reachable" : "UNREACHABLE",
                    probe.version ?? "-", probe.latencyMs.map { Format.fixed($0, 3) + " ms" } ?? "-", probe.error ?? "",
                ])
            }
            for line in table.render() { console.out(line) }
        }
        let down = probes.filter { !$0.reachable }
        if let first = down.first {
            let others = down.count > 1 ? " (and \(down.count - 1) more node\(down.count == 2 ? "" : "s") unreachable)" : ""
            throw CLIError("node \(first.node.name) (\(first.node.endpoint.address)) unreachable: \(first.error!)\(others)")
        }
    }

    /// Connects, reads the version, and times a few PINGs on the open connection.
    static func probe(_ node: NodeConfig, connection: ConnectionOptions) async -> Probe {
        let pool = NodePool(endpoint: node.endpoint, connection: connection, pool: PoolOptions(connections: 1, reconnectMin: .seconds(60)))
        defer { pool.close() }
        var result = Probe(node: node)
        do {
            let info = try await pool.send(RESPCommand("INFO", "server"))
            result.version = info.string.flatMap(versionLine)
            var samples: [Double] = []
            let clock = ContinuousClock()
            for _ in 0..<5 {
                let start = clock.now
                _ = try await pool.send(RESPCommand("PING"))
                let elapsed = clock.now - start
                samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            }
            samples.sort()
            result.latencyMs = samples[samples.count / 2]
        } catch let error as RedisError {
            result.error = "\(error.code): \(error.message)"
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    private static func versionLine(_ info: String) -> String? {
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("redis_version:") {
            return String(line.dropFirst("redis_version:".count))
        }
        return nil
    }
}
