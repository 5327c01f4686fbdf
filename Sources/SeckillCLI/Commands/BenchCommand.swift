internal import Foundation
import SeckillSale
import SeckillTransport

/// `seckill bench`: throughput and latency of the purchase path.
enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench",
        summary:
            "Measures purchase attempts against items with enough stock that the run measures the purchase path: throughput, latency, requests per node, peak memory.",
        usage:
            "--items N --concurrency C --requests R [--users U] [--stock S] [--limit L] [--warmup R] [--skew X] [--prefix P] [--no-shedding] [--metrics-file FILE] [--allow-eviction-policy] [--config FILE] [--json]",
        options: [
            ("--items", "N: items (default 100)"), ("--concurrency", "C: attempts in flight (default 200)"),
            ("--requests", "R: measured attempts (default 200000)"), ("--users", "U: distinct users (default 1000000)"),
            ("--stock", "S: units per item (default: enough for every attempt)"), ("--limit", "L: units per user, 0 for none (default 0)"),
            ("--warmup", "R: attempts before measuring, not counted (default R/10, at most 20000)"),
            ("--skew", "X: Zipf exponent of item popularity (default 0, uniform)"),
            ("--prefix", "P: item ids P-0, P-1, ... (default bench-UNIXTIME)"), ConfigLoading.option, MetricsFile.option,
        ],
        flags: [
            ("--no-shedding", "Send every attempt to Redis, also for sold-out items."), ItemCommands.evictionFlag,
            (
                "--json",
                "Print {requests, warmup, throughput, latencyMs {p50, p99, p999, max}, perNode, peakRSSBytes, clientCPUMicrosPerAttempt, ...}."
            ),
        ],
        details:
            "Items are published fresh (replacing earlier ones of the same ids). With a small --stock the run measures the\nend of a sale, when most items are sold out; compare it with --no-shedding."
    )

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        var config = SaleRunConfig()
        config.items = try arguments.integer("--items", default: 100, in: 1...10_000_000)
        config.concurrency = try arguments.integer("--concurrency", default: 200, in: 1...100_000)
        config.requests = try arguments.integer("--requests", default: 200_000, in: 1...1_000_000_000)
        config.users = try arguments.integer("--users", default: 1_000_000, in: 1...1_000_000_000)
        config.warmup = try arguments.integer("--warmup", default: min(20_000, config.requests / 10), in: 0...1_000_000_000)
        config.stock = try arguments.integer("--stock", default: config.requests + config.warmup, in: 0...SaleInput.maxUnits)
        config.limit = try arguments.integer("--limit", default: 0, in: 0...SaleInput.maxUnits)
        if let skew = arguments.value("--skew") {
            guard let value = Double(skew), value >= 0, value <= 10 else {
                throw CLIError.usage("bench", "--skew must be a number from 0 to 10, got \"\(skew)\"")
            }
            config.skew = value
        } else {
            config.skew = 0
        }
        config.prefix = arguments.value("--prefix") ?? "bench-\(Int(Date().timeIntervalSince1970))"
        config.replace = true
        config.checkInvariants = false
        do {
            try SaleInput.validateItem(config.item(config.items - 1))
        } catch {
            throw CLIError.usage("bench", "--prefix: \(error.message)")
        }
        let shedding = !arguments.flag("--no-shedding")
        let coordinator = try await ConfigLoading.coordinator(arguments) { options in
            if !shedding { options.soldOutRecheck = nil }
        }
        let report: SaleRunReport
        let requests = config.requests
        report = try await MetricsFile.during(arguments.value("--metrics-file"), coordinator: coordinator) { () throws(CLIError) in
            do throws(SaleError) {
                return try await SaleRunner(coordinator: coordinator).run(config) { progress in
                    console.status(
                        "\(Format.grouped(progress.done))/\(Format.grouped(requests)) attempts, \(Format.grouped(progress.seconds > 0 ? Int(Double(progress.done) / progress.seconds) : 0)) req/s"
                    )
                }
            } catch {
                console.clearStatus()
                throw ConfigLoading.failure(error)
            }
        }
        await ConfigLoading.finish(coordinator)
        console.clearStatus()
        let peak = ProcessStats.peakResidentBytes
        if arguments.flag("--json") {
            var members: [(String, JSONOutput)] = [
                ("requests", .int(report.requests)), ("warmup", .int(config.warmup)), ("concurrency", .int(config.concurrency)),
                ("items", .int(config.items)),
                ("seconds", .double(report.seconds)), ("throughput", .double(report.throughput)),
                (
                    "latencyMs",
                    .object([
                        ("p50", .double(report.latencyMs.p50)), ("p99", .double(report.latencyMs.p99)),
                        ("p999", .double(report.latencyMs.p999)), ("max", .double(report.latencyMs.max)),
                    ])
                ),
                ("perNode", .object(report.perNode.map { ($0.node, .int($0.requests)) })),
                ("peakRSSBytes", .int(Int(peak))), ("clientCPUMicrosPerAttempt", .double(report.clientCPUMicrosPerAttempt)),
                ("errors", .int(report.errors)),
                ("errorSamples", .array(report.errorSamples.map { .string($0) })), ("shedding", .bool(shedding)),
                ("shedAnswers", .int(report.shedAnswers)),
            ]
            members.append(("results", .object(SaleCommand.kinds.map { ($0, .int(report.results[$0, default: 0])) })))
            console.out(JSONOutput.object(members).render(pretty: false))
        } else {
            console.out(
                "\(Format.grouped(report.requests)) purchase attempts on \(Format.grouped(config.items)) items at concurrency \(config.concurrency): \(Format.grouped(Int(report.throughput))) attempts/s in \(Format.fixed(report.seconds, 2)) s (warm-up \(Format.grouped(config.warmup)), shedding \(shedding ? "on" : "off"))"
            )
            console.out(
                "latency ms: p50 \(Format.fixed(report.latencyMs.p50, 3))  p99 \(Format.fixed(report.latencyMs.p99, 3))  p99.9 \(Format.fixed(report.latencyMs.p999, 3))  max \(Format.fixed(report.latencyMs.max, 3))"
            )
            let results = SaleCommand.kinds.filter { report.results[$0, default: 0] > 0 }.map {
                "\($0) \(Format.grouped(report.results[$0, default: 0]))"
            }
            console.out("results: \(results.joined(separator: ", ")), errors \(report.errors)")
            console.out("per node: " + report.perNode.map { "\($0.node) \(Format.grouped($0.requests))" }.joined(separator: ", "))
            console.out(
                "peak RSS: \(Format.fixed(Double(peak) / 1_048_576, 1)) MiB; client CPU \(Format.fixed(report.clientCPUMicrosPerAttempt, 2)) us per attempt"
            )
            for sample in report.errorSamples { console.out("error: \(sample)") }
        }
    }
}
