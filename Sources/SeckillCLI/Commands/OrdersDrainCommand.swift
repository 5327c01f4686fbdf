internal import Foundation
import SeckillOrders
import SeckillRouting
import Synchronization

/// `seckill orders drain`: hands every order in the orders streams on to a SQLite database.
enum OrdersDrainCommand {
    static let spec = CommandSpec(
        name: "orders drain",
        summary:
            "Hands every item's orders (purchases, payments, cancellations, releases) on to a SQLite database, through a consumer group.",
        usage:
            "--sqlite FILE [--follow] [--group G] [--consumer NAME] [--batch N] [--claim-timeout MS] [--max-deliveries N] [--discovery-interval MS] [--config FILE] [--json]",
        options: [
            ("--sqlite", "FILE: the SQLite database (created with its tables when missing)"),
            ("--group", "G: the consumer group (default seckill-orders)"),
            ("--consumer", "NAME: this consumer's name in the group (default consumer)"),
            ("--batch", "N: entries read per stream per pass (default 500)"),
            ("--claim-timeout", "MS: take over entries another consumer left unacknowledged this long (default 30000)"),
            ("--max-deliveries", "N: deliveries after which an entry that is not an order event is dead-lettered (default 5)"),
            ("--discovery-interval", "MS: with --follow, how often the streams are listed again for new items (default 5000)"),
            ConfigLoading.option,
        ],
        flags: [
            ("--follow", "Keep draining (new items included) until SIGINT or SIGTERM, then print the totals."),
            (
                "--json",
                "Print {entriesRead, inserted, updated, unchanged, deadLettered, acknowledged, claimed, streams, busyStreams, failures}."
            ),
        ],
        details: """
            Entries are acknowledged (XACK) only after the database committed them; one transaction per pass. Run it again
            after a crash: entries delivered but not acknowledged come again and change nothing. An entry that is not an
            order event goes, after --max-deliveries attempts, to the stream KEY:dead beside its stream, with the reason.
            Exits 1 when a stream could not be read or the database could not be written.
            """)

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        guard let path = arguments.value("--sqlite") else { throw CLIError.usage(spec.name, "--sqlite FILE is required") }
        var options = OrderConsumerOptions()
        options.group = arguments.value("--group") ?? options.group
        options.consumer = arguments.value("--consumer") ?? options.consumer
        options.batchSize = try arguments.integer("--batch", default: options.batchSize, in: 1...100_000)
        options.claimTimeout = .milliseconds(try arguments.integer("--claim-timeout", default: 30_000, in: 0...86_400_000))
        options.maxDeliveries = try arguments.integer("--max-deliveries", default: options.maxDeliveries, in: 1...1_000)
        options.discoveryInterval = .milliseconds(try arguments.integer("--discovery-interval", default: 5_000, in: 0...3_600_000))
        let config = try ConfigLoading.loadSale(arguments)
        let client = try await ConfigLoading.client(config.cluster)
        let consumer: OrderConsumer
        do {
            consumer = try OrderConsumer(client: client, sink: try SQLiteOrderSink(path: path), options: options)
        } catch {
            await client.shutdown()
            throw CLIError(error.message, status: error.code == .invalidInput ? 2 : 1)
        }
        var report: DrainReport
        if arguments.flag("--follow") {
            report = await follow(consumer, console: console)
        } else {
            do {
                report = try await consumer.drain()
            } catch {
                await client.shutdown()
                throw CLIError(error.message)
            }
        }
        await client.shutdown()
        print(report, json: arguments.flag("--json"), console: console)
        if let first = report.failures.first {
            throw CLIError("\(first)\(report.failures.count > 1 ? " (and \(report.failures.count - 1) more)" : "")")
        }
    }

    /// Runs the consumer until SIGINT or SIGTERM; returns the totals of every pass.
    private static func follow(_ consumer: OrderConsumer, console: Console) async -> DrainReport {
        let totals = Totals()
        let task = Task { await consumer.run { totals.add($0) } }
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        await task.value
        for source in sources { source.cancel() }
        return totals.report
    }

    /// The passes' reports added up, written by the consumer's task and read once it ended.
    private final class Totals: Sendable {
        private let state = Mutex(DrainReport())
        func add(_ report: DrainReport) { state.withLock { $0 += report } }
        var report: DrainReport { state.withLock { $0 } }
    }

    private static func print(_ report: DrainReport, json: Bool, console: Console) {
        if json {
            console.out(
                JSONOutput.object([
                    ("entriesRead", .int(report.entriesRead)), ("inserted", .int(report.sink.inserted)),
                    ("updated", .int(report.sink.updated)),
                    ("unchanged", .int(report.sink.unchanged)), ("deadLettered", .int(report.deadLettered)),
                    ("acknowledged", .int(report.acknowledged)), ("claimed", .int(report.claimed)), ("streams", .int(report.streams)),
                    ("busyStreams", .int(report.busyStreams)), ("failures", .array(report.failures.map { .string($0) })),
                ]).render())
        } else {
            console.out(
                "read \(Format.grouped(report.entriesRead)) entries from \(Format.grouped(report.streams)) streams: "
                    + "\(Format.grouped(report.sink.inserted)) orders inserted, \(Format.grouped(report.sink.updated)) updated, "
                    + "\(Format.grouped(report.sink.unchanged)) unchanged, \(Format.grouped(report.deadLettered)) dead-lettered")
            if report.busyStreams > 0 { console.out("\(report.busyStreams) streams held by another consumer of the group were skipped") }
        }
    }
}
