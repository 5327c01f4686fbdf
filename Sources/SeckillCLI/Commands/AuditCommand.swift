internal import Foundation
import SeckillOrders

/// `seckill audit`: Redis against itself and against the order database, per item.
enum AuditCommand {
    static let spec = CommandSpec(
        name: "audit",
        summary: "Reconciles, per item: counters vs buyers vs orders stream, and with --sqlite the database vs the stream.",
        usage: "[ITEM...] [--sqlite FILE] [--summary] [--config FILE] [--json]",
        options: [("--sqlite", "FILE: the database seckill orders drain writes, compared order by order"), ConfigLoading.option],
        flags: [
            ("--summary", "One line of totals over the items instead of a line per item (drifts are still listed one by one)."),
            ("--json", "Print {clean, items: [{item, sold, held, streamNet, ...}], drifts, unreadable}."),
        ],
        details: """
            The stream's units are purchases minus cancellations minus releases. With a database, every order the streams
            describe must have a row in the state the stream gives it, and every row an order in the streams; run it once
            seckill orders drain has caught up. Without items, every item on the nodes (and in the database) is audited.
            Exits 1 when anything drifted or a node could not be read.
            """)

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let database: SQLiteOrderSink?
        if let path = arguments.value("--sqlite") {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError("\(path) does not exist: give the database seckill orders drain --sqlite wrote")
            }
            do {
                database = try SQLiteOrderSink(path: path)
            } catch {
                throw CLIError(error.message)
            }
        } else {
            database = nil
        }
        let config = try ConfigLoading.loadSale(arguments)
        let client = try await ConfigLoading.client(config.cluster)
        let report: AuditReport
        do {
            report = try await OrderAudit(client: client).audit(arguments.positionals, database: database)
        } catch {
            await client.shutdown()
            throw CLIError(error.message)
        }
        await client.shutdown()
        if arguments.flag("--json") {
            console.out(json(report).render())
        } else {
            var table = Table(
                header: ["ITEM", "SOLD", "HELD", "STREAM", "PURCHASES", "CANCELS", "RELEASES", "PAID", "DB ROWS", "DRIFTS"],
                rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9])
            if arguments.flag("--summary") {
                let items = report.items
                func total(_ value: (ItemAudit) -> Int) -> String { String(items.reduce(0) { $0 + value($1) }) }
                table.add([
                    "\(items.count) items", total(\.sold), total(\.held), total(\.streamNet), total(\.purchases), total(\.cancellations),
                    total(\.releases), total(\.payments),
                    report.items.contains { $0.database != nil } ? total { $0.database?.rows ?? 0 } : "-",
                    total { $0.drifts.count },
                ])
            }
            for item in report.items where !arguments.flag("--summary") {
                table.add([
                    item.item, String(item.sold), String(item.held), String(item.streamNet), String(item.purchases),
                    String(item.cancellations),
                    String(item.releases), String(item.payments), item.database.map { String($0.rows) } ?? "-", String(item.drifts.count),
                ])
            }
            for line in table.render() { console.out(line) }
            for drift in report.drifts { console.out("drift: \(drift)") }
            for item in report.items where item.malformed > 0 {
                console.out("note: \(item.item): \(item.malformed) stream entries are not order events (the consumer dead-letters them)")
            }
            for line in report.unreadable { console.out("unreadable: \(line)") }
            if report.clean { console.out("audit clean: \(report.items.count) items") }
        }
        if !report.clean {
            let count = report.drifts.count + report.unreadable.count
            throw CLIError(
                "audit found \(count) problem\(count == 1 ? "" : "s") in \(report.items.filter { !$0.drifts.isEmpty }.count) items")
        }
    }

    private static func json(_ report: AuditReport) -> JSONOutput {
        .object([
            ("clean", .bool(report.clean)),
            (
                "items",
                .array(
                    report.items.map { item in
                        var members: [(String, JSONOutput)] = [
                            ("item", .string(item.item)), ("published", .bool(item.published)), ("buckets", .int(item.buckets)),
                            ("sold", .int(item.sold)), ("held", .int(item.held)), ("streamNet", .int(item.streamNet)),
                            ("purchases", .int(item.purchases)), ("cancellations", .int(item.cancellations)),
                            ("releases", .int(item.releases)),
                            ("payments", .int(item.payments)), ("malformed", .int(item.malformed)),
                        ]
                        if let database = item.database {
                            members.append(
                                (
                                    "database",
                                    .object([
                                        ("rows", .int(database.rows)), ("missing", .array(database.missing.map { .string($0) })),
                                        ("extra", .array(database.extra.map { .string($0) })),
                                        ("different", .array(database.different.map { .string($0) })),
                                    ])
                                ))
                        }
                        members.append(("drifts", .array(item.drifts.map { .string($0) })))
                        return .object(members)
                    })
            ),
            ("drifts", .array(report.drifts.map { .string($0) })), ("unreadable", .array(report.unreadable.map { .string($0) })),
        ])
    }
}
