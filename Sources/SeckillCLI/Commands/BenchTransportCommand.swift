import SeckillRESP
import SeckillRouting
import SeckillTransport

/// `seckill bench-transport`: pipelined throughput of simple commands through one pooled node.
enum BenchTransportCommand {
    static let spec = CommandSpec(
        name: "bench-transport",
        summary: "Measures the transport alone: C concurrent tasks send R simple commands (PING or INCR) through one node's pool.",
        usage: "[--config FILE] [--node NAME] [--concurrency C] [--requests R] [--command PING|INCR] [--json]",
        options: [
            ConfigLoading.option,
            ("--node", "NAME: the node (default: the first in the config)"),
            ("--concurrency", "C: concurrent callers (default 200)"),
            ("--requests", "R: commands in all (default 200000)"),
            ("--command", "NAME: PING or INCR (default PING)"),
        ],
        flags: [("--json", "Print {requests, seconds, throughput, errors, latencyMs} as JSON.")],
        details: "Compare with redis-benchmark -t ping -P 16 -c 50 on the same node (scripts/bench.sh).")

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        let config = try ConfigLoading.load(arguments)
        let concurrency = try arguments.integer("--concurrency", default: 200, in: 1...100_000)
        let requests = try arguments.integer("--requests", default: 200_000, in: 1...100_000_000)
        let commandName = (arguments.value("--command") ?? "PING").uppercased()
        guard commandName == "PING" || commandName == "INCR" else {
            throw CLIError.usage("bench-transport", "--command must be PING or INCR, got \(commandName)")
        }
        let nodes = try await ConfigLoading.slotMap(config).nodes
        let nodeName = arguments.value("--node") ?? nodes[0].name
        guard let node = nodes.first(where: { $0.name == nodeName }) else {
            throw CLIError.usage("bench-transport", "no node named \(nodeName) in \(config.source)")
        }
        let connection: ConnectionOptions
        do { connection = try config.connectionOptions(environment: ConfigLoading.environment) } catch {
            throw CLIError(ConfigLoading.oneLine(error))
        }
        let pool = NodePool(endpoint: node.endpoint, connection: connection, pool: config.poolOptions)
        defer { pool.close() }
        do { try await pool.warmUp() } catch {
            throw CLIError("node \(node.name) (\(node.endpoint.address)) unreachable: \((error as? RedisError)?.message ?? "\(error)")")
        }
        let command = commandName == "PING" ? RESPCommand("PING") : RESPCommand("INCR", "seckill:bench:counter")
        let clock = ContinuousClock()
        let start = clock.now
        let results = await withTaskGroup(of: (errors: Int, latencies: [Double]).self) { group in
            for worker in 0..<concurrency {
                let share = requests / concurrency + (worker < requests % concurrency ? 1 : 0)
                group.addTask {
                    var errors = 0
                    var latencies: [Double] = []
                    latencies.reserveCapacity(share)
                    for _ in 0..<share {
                        let sent = clock.now
                        do { _ = try await pool.send(command) } catch { errors += 1 }
                        let elapsed = clock.now - sent
                        latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                    }
                    return (errors, latencies)
                }
            }
            var errors = 0
            var latencies: [Double] = []
            latencies.reserveCapacity(requests)
            for await result in group {
                errors += result.errors
                latencies += result.latencies
            }
            return (errors, latencies)
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = results.1.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let throughput = Double(requests) / seconds
        if arguments.flag("--json") {
            console.out(
                JSONOutput.object([
                    ("node", .string(node.name)), ("command", .string(commandName)), ("concurrency", .int(concurrency)),
                    ("requests", .int(requests)), ("errors", .int(results.0)), ("seconds", .double(seconds)),
                    ("throughput", .double(throughput)),
                    (
                        "latencyMs",
                        .object([
                            ("p50", .double(percentile(0.5))), ("p99", .double(percentile(0.99))),
                            ("p999", .double(percentile(0.999))), ("max", .double(sorted.last ?? 0)),
                        ])
                    ),
                ]).render(pretty: false))
        } else {
            console.out(
                "\(commandName) x \(Format.grouped(requests)) through \(node.name) at concurrency \(concurrency): \(Format.grouped(Int(throughput))) commands/s in \(Format.fixed(seconds, 2)) s, \(results.0) errors"
            )
            console.out(
                "latency ms: p50 \(Format.fixed(percentile(0.5), 3))  p99 \(Format.fixed(percentile(0.99), 3))  p99.9 \(Format.fixed(percentile(0.999), 3))  max \(Format.fixed(sorted.last ?? 0, 3))"
            )
        }
        if results.0 > 0 { throw CLIError("\(results.0) of \(requests) commands failed") }
    }
}
