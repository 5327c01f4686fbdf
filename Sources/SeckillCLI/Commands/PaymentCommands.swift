internal import Foundation
import SeckillSale

/// `seckill pay`, `orders sweep` and `orders pending`: payment deadlines, for operators.
enum PaymentCommands {
    static let paySpec = CommandSpec(
        name: "pay",
        summary: "Pays an unpaid order of an item published with --pay-within, if its deadline has not passed.",
        usage: "ITEM --order O [--config FILE] [--json]",
        options: [("--order", "O: the order id buy printed (j:ENTRY for a bucketed item)"), ConfigLoading.option],
        flags: [ItemCommands.jsonFlag],
        details: """
            Answers paid, alreadyPaid (paying twice changes nothing), late (the deadline passed: the payment is
            refused and the order released in the same step), released (a sweep released it before), or cancelled.
            Exits 0 when the order is paid (now or before), 1 when the payment is refused or the order is unknown.
            """)

    static let sweepSpec = CommandSpec(
        name: "orders sweep",
        summary: "Releases every unpaid order past its payment deadline (units back to stock and to the buyer's allowance).",
        usage: "[--config FILE] [--json]",
        options: [ConfigLoading.option],
        flags: [ItemCommands.jsonFlag],
        details: """
            Reads the registry of items with payment deadlines (seckill:pay-items) and runs the release script on each
            item or bucket, pipelined per node. Each order is released once, however many sweeps run. A long-running
            coordinator (seckill sale) sweeps every second by itself. Exits 1 when some item could not be swept.
            """)

    static let pendingSpec = CommandSpec(
        name: "orders pending",
        summary: "Lists the unpaid orders of an item with their payment deadlines, earliest first.",
        usage: "ITEM [--limit N] [--config FILE] [--json]",
        options: [("--limit", "N: the most orders listed (default 1000)"), ConfigLoading.option],
        flags: [ItemCommands.jsonFlag])

    static func pay(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try ItemCommands.item(arguments)
        guard let order = arguments.value("--order") else { throw CLIError.usage("pay", "--order is required") }
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let result: PayResult
        do {
            result = try await coordinator.pay(item, order: order)
        } catch {
            throw ConfigLoading.failure(error)
        }
        var members: [(String, JSONOutput)] = [("item", .string(item)), ("order", .string(order)), ("result", .string(result.kind))]
        let line: String
        switch result {
        case .paid(let payment, let user, let quantity), .alreadyPaid(let payment, let user, let quantity):
            members += [("payment", .string(payment)), ("user", .string(user)), ("quantity", .int(quantity))]
            let again: Bool = if case .alreadyPaid = result { true } else { false }
            line =
                "\(again ? "already paid" : "paid") order \(order) of \(item): \(quantity) unit\(quantity == 1 ? "" : "s") for \(user) (payment \(payment))"
        case .late(let release, let user, let quantity, let due):
            members += [("release", .string(release)), ("user", .string(user)), ("quantity", .int(quantity)), ("dueMs", .int(Int(due)))]
            line =
                "refused: order \(order) of \(item) was due by \(ItemCommands.isoTime(due)); it is released now (release \(release)), \(quantity) unit\(quantity == 1 ? "" : "s") back on sale"
        case .released(let release, let user, let quantity):
            members += [("release", .string(release)), ("user", .string(user)), ("quantity", .int(quantity))]
            line = "refused: order \(order) of \(item) was released at its payment deadline (release \(release))"
        case .cancelled(let cancellation):
            members.append(("cancellation", .string(cancellation)))
            line = "refused: order \(order) of \(item) was cancelled (cancellation \(cancellation))"
        case .unknownOrder: throw CLIError("item \(item) has no unpaid or paid order with order id \(order)")
        case .noDeadline: throw CLIError("item \(item) was published without --pay-within: its orders need no payment")
        case .unknownItem: throw CLIError("item \(item) is not published")
        }
        console.out(arguments.flag("--json") ? JSONOutput.object(members).render(pretty: false) : line)
        switch result {
        case .paid, .alreadyPaid: return
        default: throw CLIError("the payment of order \(order) was refused (\(result.kind))")
        }
    }

    static func sweep(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let sweep: PaymentSweep
        do {
            sweep = try await coordinator.sweepPayments(rereadRegistry: true)
        } catch {
            throw ConfigLoading.failure(error)
        }
        await ConfigLoading.finish(coordinator)
        if arguments.flag("--json") {
            console.out(
                JSONOutput.object([
                    ("released", .int(sweep.total)),
                    ("items", .object(sweep.released.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                    ("scripts", .int(sweep.scripts)), ("targets", .int(sweep.targets)),
                    ("failures", .array(sweep.failures.map { .string($0) })),
                ]).render(pretty: false))
        } else {
            console.out(
                "released \(sweep.total) unpaid order\(sweep.total == 1 ? "" : "s") past the deadline (\(sweep.scripts) release script\(sweep.scripts == 1 ? "" : "s") over \(sweep.targets) item\(sweep.targets == 1 ? "" : "s") or buckets with deadlines)"
            )
            // A sale's end can release orders of thousands of items: the first ten, then a count.
            let released = sweep.released.sorted(by: { $0.key < $1.key })
            for (item, count) in released.prefix(10) { console.out("  \(item): \(count)") }
            if released.count > 10 { console.out("  ... and \(released.count - 10) more items (--json lists every one)") }
            for failure in sweep.failures { console.out("  not swept: \(failure)") }
        }
        if let first = sweep.failures.first {
            throw CLIError("\(sweep.failures.count) item\(sweep.failures.count == 1 ? "" : "s") could not be swept: \(first)")
        }
    }

    static func pending(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try ItemCommands.item(arguments)
        let limit = try arguments.integer("--limit", default: 1000, in: 1...1_000_000)
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let orders: [PendingOrder]?
        do {
            orders = try await coordinator.pendingOrders(item, limit: limit)
        } catch {
            throw ConfigLoading.failure(error)
        }
        guard let orders else { throw CLIError("item \(item) is not published") }
        if arguments.flag("--json") {
            console.out(
                JSONOutput.object([
                    ("item", .string(item)),
                    (
                        "pending",
                        .array(orders.map { .object([("order", .string($0.order)), ("dueMs", .int(Int($0.dueMs)))]) })
                    ),
                ]).render(pretty: false))
            return
        }
        console.out(
            "\(item): \(orders.count) unpaid order\(orders.count == 1 ? "" : "s")\(orders.count == limit ? " (first \(limit))" : "")")
        var table = Table(header: ["ORDER", "DUE"], rightAligned: [])
        for order in orders { table.add([order.order, ItemCommands.isoTime(order.dueMs)]) }
        if !orders.isEmpty { for line in table.render() { console.out("  " + line) } }
    }

    // MARK: Durations

    /// A duration option: a whole number and a unit, `ms`, `s`, `m` or `h` (`500ms`, `90s`,
    /// `15m`, `2h`), from 1 ms to 30 days; nil when the option is absent.
    static func duration(_ arguments: Arguments, _ name: String) throws(CLIError) -> Duration? {
        guard let text = arguments.value(name) else { return nil }
        guard let duration = parseDuration(text) else {
            throw CLIError.usage(
                arguments.command, "\(name) must be a whole number with a unit ms, s, m or h (500ms, 90s, 15m, 2h), got \"\(text)\"")
        }
        guard duration >= .milliseconds(1), duration <= SaleCoordinator.maxPayWithin else {
            throw CLIError.usage(arguments.command, "\(name) must be from 1ms to 30 days (720h), got \"\(text)\"")
        }
        return duration
    }

    /// `500ms`, `90s`, `15m`, `2h` as a duration; nil for anything else.
    static func parseDuration(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        default: return nil
        }
    }

    /// Whole milliseconds of `duration`.
    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
