import SeckillSale

/// `seckill status` and `seckill buyers`.
enum StatusCommands {
    static let statusSpec = CommandSpec(
        name: "status",
        summary: "Shows total, sold, remaining and buyers of items, read in one pipelined round trip per node.",
        usage: "[ITEM...] [--config FILE] [--json]",
        options: [ConfigLoading.option],
        flags: [("--json", "Print a JSON array of {item, node, total, sold, remaining, buyers, limit, startsAtMs, endsAtMs, epoch}.")],
        details: "Without items, every item found on every node (SCAN) is shown. Exits 1 when a named item is not published.")

    static let buyersSpec = CommandSpec(
        name: "buyers",
        summary: "Lists the users holding units of an item (paged with HSCAN).",
        usage: "ITEM [--page-size N] [--config FILE] [--json]",
        options: [("--page-size", "N: buyers read per round trip (default 500)"), ConfigLoading.option],
        flags: [("--json", "Print a JSON array of {user, units}.")])

    static func bucketJSON(_ bucket: BucketStatus) -> JSONOutput {
        .object([
            ("index", .int(bucket.index)), ("tag", .string(bucket.tag)), ("node", .string(bucket.node)), ("total", .int(bucket.total)),
            ("sold", .int(bucket.sold)), ("remaining", .int(bucket.remaining)), ("buyers", .int(bucket.buyers)),
            ("pendingTransfers", .int(bucket.pendingTransfers)),
        ])
    }

    static func status(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let items: [String]
        let statuses: [ItemStatus?]
        do {
            items = arguments.positionals.isEmpty ? try await coordinator.allItems() : arguments.positionals
            statuses = try await coordinator.status(items)
        } catch {
            throw ConfigLoading.failure(error)
        }
        if arguments.flag("--json") {
            console.out(
                JSONOutput.array(
                    zip(items, statuses).map { item, status in
                        guard let status else { return .object([("item", .string(item)), ("published", .bool(false))]) }
                        return .object([
                            ("item", .string(item)), ("node", .string(status.node)), ("total", .int(status.total)),
                            ("sold", .int(status.sold)), ("remaining", .int(status.remaining)), ("buyers", .int(status.buyers)),
                            ("limit", .int(status.limit)), ("startsAtMs", status.window.startsAtMs.map { .int(Int($0)) } ?? .null),
                            ("endsAtMs", status.window.endsAtMs.map { .int(Int($0)) } ?? .null), ("epoch", .int(status.epoch)),
                            ("buckets", .array(status.buckets.map(bucketJSON))),
                        ])
                    }
                ).render())
        } else if items.isEmpty {
            console.out("no items published on any node")
        } else {
            var table = Table(
                header: ["ITEM", "NODE", "TOTAL", "SOLD", "REMAINING", "BUYERS", "LIMIT", "EPOCH", "WINDOW"],
                rightAligned: [2, 3, 4, 5, 6, 7])
            for (item, status) in zip(items, statuses) {
                guard let status else {
                    table.add([item, "-", "-", "-", "-", "-", "-", "-", "not published"])
                    continue
                }
                table.add([
                    item, status.node, Format.grouped(status.total), Format.grouped(status.sold), Format.grouped(status.remaining),
                    Format.grouped(status.buyers), status.limit == 0 ? "none" : String(status.limit), String(status.epoch),
                    String(ItemCommands.describe(status.window).dropFirst(2)),
                ])
                // A bucketed item: one line per bucket under it.
                for bucket in status.buckets {
                    table.add([
                        "  bucket \(bucket.index)", bucket.node, Format.grouped(bucket.total), Format.grouped(bucket.sold),
                        Format.grouped(bucket.remaining), Format.grouped(bucket.buyers), "", "",
                        bucket.pendingTransfers == 0 ? "" : "\(bucket.pendingTransfers) transfers pending",
                    ])
                }
            }
            for line in table.render() { console.out(line) }
        }
        let missing = zip(items, statuses).filter { $0.1 == nil }.map(\.0)
        if let first = missing.first {
            throw CLIError("item \(first) is not published\(missing.count > 1 ? " (and \(missing.count - 1) more)" : "")")
        }
    }

    static func buyers(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try ItemCommands.item(arguments)
        let pageSize = try arguments.integer("--page-size", default: 500, in: 1...100_000)
        let coordinator = try await ConfigLoading.coordinator(arguments)
        var all: [(user: String, units: Int)] = []
        do {
            guard try await coordinator.status([item]).first! != nil else { throw CLIError("item \(item) is not published") }
            var cursor = "0"
            repeat {
                let page = try await coordinator.buyers(item, cursor: cursor, count: pageSize)
                all += page.buyers
                cursor = page.next ?? "0"
            } while cursor != "0"
        } catch let error as CLIError {
            throw error
        } catch let error as SaleError {
            throw ConfigLoading.failure(error)
        } catch {
            throw CLIError("\(error)")
        }
        all.sort { $0.user < $1.user }
        if arguments.flag("--json") {
            console.out(JSONOutput.array(all.map { .object([("user", .string($0.user)), ("units", .int($0.units))]) }).render())
        } else {
            var table = Table(header: ["USER", "UNITS"], rightAligned: [1])
            for buyer in all { table.add([buyer.user, Format.grouped(buyer.units)]) }
            for line in table.render() { console.out(line) }
            console.out(
                "\(Format.grouped(all.count)) buyer\(all.count == 1 ? "" : "s") holding \(Format.grouped(all.reduce(0) { $0 + $1.units })) units"
            )
        }
    }
}
