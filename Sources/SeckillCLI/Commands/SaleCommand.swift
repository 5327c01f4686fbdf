internal import Foundation
import SeckillSale

/// `seckill sale`: a simulated flash sale with many concurrent shoppers, and its report.
enum SaleCommand {
    static let spec = CommandSpec(
        name: "sale",
        summary:
            "Publishes N items, sends R purchase attempts from C concurrent shoppers with skewed item popularity, then checks the invariants in Redis.",
        usage:
            "[--items N] [--stock S] [--limit L] [--users U] [--requests R] [--concurrency C] [--prefix P] [--skew X] [--hot-share X] [--seed N] [--buckets K] [--pay-within DURATION [--pay-share X]] [--replace] [--request-log FILE] [--metrics-file FILE] [--allow-eviction-policy] [--config FILE] [--json]",
        options: [
            ("--items", "N: items on sale (default 1000)"), ("--stock", "S: units per item (default 100)"),
            ("--limit", "L: units per user per item, 0 for none (default 1)"), ("--users", "U: distinct shoppers (default 20000)"),
            ("--requests", "R: purchase attempts (default 200000)"), ("--concurrency", "C: attempts in flight (default 256)"),
            ("--prefix", "P: item ids are P-0, P-1, ... (default sale-UNIXTIME)"),
            ("--skew", "X: Zipf exponent of item popularity, 0 uniform (default 1.0)"),
            ("--hot-share", "X: item 0 draws this share of all attempts (0 < X < 1); the rest follow --skew"),
            ("--seed", "N: seeds the shoppers' choices (default 1)"),
            ("--buckets", "K: publish the hottest item (P-0) with its stock in K buckets on different nodes (default 1: plain)"),
            ("--pay-within", "DURATION: publish every item with this payment deadline (500ms, 90s, 15m)"),
            (
                "--pay-share",
                "X: with --pay-within, the share of purchases paid right after buying, 0 to 1 (default 1); the rest are released"
            ),
            ("--request-log", "FILE: append every attempt and every purchase to FILE, for seckill retry (see below)"),
            ConfigLoading.option, MetricsFile.option,
        ],
        flags: [
            ("--replace", "Reset items of the same ids that already have sales."), ItemCommands.evictionFlag,
            ("--json", "Print the report as one JSON object."),
        ],
        details: """
            The invariant check reads every item back from Redis, independent of the run's counters: sold == sum of
            buyers == purchases minus cancellations in the orders stream, 0 <= sold <= total, no user above the limit.
            Exits 1 when an invariant fails.

            --request-log FILE: every attempt gets a request id, and the line "ITEM USER QUANTITY REQUEST" is appended to
            FILE (one write(2), O_APPEND, no buffering) before the attempt is sent; after an attempt bought, the line
            "A REQUEST ORDER" with its order id. Lines starting with # are comments. If this process dies, even by
            SIGKILL, seckill retry FILE re-sends every logged attempt with its own request id: none buys twice, and every
            acknowledged order comes back with the same order id. Attempts with a request id are never answered by the
            in-process sold-out shedder, so with this option every attempt goes to Redis. An existing FILE is appended to.
            """)

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        var config = SaleRunConfig()
        config.items = try arguments.integer("--items", default: config.items, in: 1...10_000_000)
        config.stock = try arguments.integer("--stock", default: config.stock, in: 0...SaleInput.maxUnits)
        config.limit = try arguments.integer("--limit", default: config.limit, in: 0...SaleInput.maxUnits)
        config.buckets = try arguments.integer("--buckets", default: config.buckets, in: 1...BucketLayout.maxBuckets)
        config.users = try arguments.integer("--users", default: config.users, in: 1...1_000_000_000)
        config.requests = try arguments.integer("--requests", default: config.requests, in: 0...1_000_000_000)
        config.concurrency = try arguments.integer("--concurrency", default: config.concurrency, in: 1...100_000)
        config.prefix = arguments.value("--prefix") ?? "sale-\(Int(Date().timeIntervalSince1970))"
        if let skew = arguments.value("--skew") {
            guard let value = Double(skew), value >= 0, value <= 10 else {
                throw CLIError.usage("sale", "--skew must be a number from 0 to 10, got \"\(skew)\"")
            }
            config.skew = value
        }
        if let text = arguments.value("--hot-share") {
            guard let share = Double(text), Popularity.validHotShare(share) else {
                throw CLIError.usage(
                    "sale",
                    "--hot-share must be a number strictly between 0 and 1 (0.5: the hottest item draws half of all attempts), got \"\(text)\""
                )
            }
            config.hotShare = share
        }
        config.seed = UInt64(try arguments.integer("--seed", default: 1, in: 0...Int.max))
        config.replace = arguments.flag("--replace")
        config.payWithin = try PaymentCommands.duration(arguments, "--pay-within")
        if let text = arguments.value("--pay-share") {
            guard config.payWithin != nil else { throw CLIError.usage("sale", "--pay-share needs --pay-within") }
            guard let share = Double(text), (0...1).contains(share) else {
                throw CLIError.usage(
                    "sale", "--pay-share must be a number from 0 to 1 (0.8: four purchases in five are paid), got \"\(text)\"")
            }
            config.payShare = share
        }
        do {
            try SaleInput.validateItem(config.item(config.items - 1))
        } catch {
            throw CLIError.usage("sale", "--prefix: \(error.message)")
        }
        if let path = arguments.value("--request-log"), config.prefix.utf8.contains(UInt8(ascii: " ")) {
            throw CLIError.usage("sale", "--prefix must contain no spaces with --request-log \(path) (its fields are separated by spaces)")
        }
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let requestLog: RequestLog?
        do {
            requestLog = try arguments.value("--request-log").map { path throws(SaleError) in try RequestLog(path: path) }
        } catch {
            throw ConfigLoading.failure(error)
        }
        let json = arguments.flag("--json")
        if !json {
            console.out(
                "Flash sale: \(Format.grouped(config.items)) items x \(Format.grouped(config.stock)) units, limit \(config.limit == 0 ? "none" : String(config.limit)), \(Format.grouped(config.users)) users, \(Format.grouped(config.requests)) attempts at concurrency \(config.concurrency), items \(config.item(0))...\(config.buckets > 1 ? ", \(config.item(0)) in \(config.buckets) buckets" : "")"
            )
        }
        let requests = config.requests
        let report = try await MetricsFile.during(arguments.value("--metrics-file"), coordinator: coordinator) { () throws(CLIError) in
            do throws(SaleError) {
                return try await SaleRunner(coordinator: coordinator).run(config, requestLog: requestLog) { progress in
                    console.status(
                        "\(Format.grouped(progress.done))/\(Format.grouped(requests)) attempts, \(Format.grouped(progress.purchased)) purchased, \(Format.grouped(progress.itemsSoldOut)) items sold out, \(Format.grouped(progress.seconds > 0 ? Int(Double(progress.done) / progress.seconds) : 0)) req/s, \(progress.errors) errors"
                    )
                }
            } catch {
                console.clearStatus()
                throw ConfigLoading.failure(error)
            }
        }
        await ConfigLoading.finish(coordinator)
        console.clearStatus()
        if json {
            console.out(jsonReport(report).render(pretty: false))
        } else {
            for line in textReport(report) { console.out(line) }
        }
        if let first = report.invariants.violations.first {
            throw CLIError(
                "invariants do not hold: \(first)\(report.invariants.violations.count > 1 ? " (and \(report.invariants.violations.count - 1) more)" : "")"
            )
        }
        if let first = report.invariants.unreadable.first {
            throw CLIError("invariants not checked for \(report.invariants.unreadable.count) items: \(first)")
        }
    }

    static let kinds = PurchaseResult.kinds

    /// The invariant check's lines of a text report (`seckill sale`, `seckill retry`).
    static func invariantLines(_ check: InvariantReport) -> [String] {
        var lines = [
            "invariants, read back from Redis: \(check.holds ? "HOLD" : "BROKEN") for \(Format.grouped(check.items)) items: \(Format.grouped(check.soldUnits)) of \(Format.grouped(check.totalUnits)) units sold, \(Format.grouped(check.purchases)) purchase and \(Format.grouped(check.cancellations)) cancellation entries"
                + (check.payments + check.releases > 0
                    ? ", \(Format.grouped(check.payments)) payment and \(Format.grouped(check.releases)) release entries" : "")
        ]
        for violation in check.violations.prefix(20) { lines.append("  violation: \(violation)") }
        if !check.unreadable.isEmpty {
            lines.append(
                "  \(Format.grouped(check.unreadable.count)) items could not be read, so nothing is claimed for them: \(check.unreadable[0])"
            )
        }
        return lines
    }

    /// The invariant check's members of a JSON report (`seckill sale`, `seckill retry`).
    static func invariantMembers(_ invariants: InvariantReport) -> [(String, JSONOutput)] {
        [
            ("unitsTotal", .int(invariants.totalUnits)), ("unitsSold", .int(invariants.soldUnits)),
            (
                "orderEntries",
                .object([
                    ("purchases", .int(invariants.purchases)), ("cancellations", .int(invariants.cancellations)),
                    ("payments", .int(invariants.payments)), ("releases", .int(invariants.releases)),
                ])
            ),
            ("invariantsHold", .bool(invariants.holds)),
            ("violations", .array(invariants.violations.prefix(50).map { .string($0) })),
            ("unreadableItems", .int(invariants.unreadable.count)),
        ]
    }

    static func jsonReport(_ report: SaleRunReport) -> JSONOutput {
        var members: [(String, JSONOutput)] = [("requests", .int(report.requests))]
        for kind in kinds { members.append((kind, .int(report.results[kind, default: 0]))) }
        members += [
            ("errors", .int(report.errors)), ("errorSamples", .array(report.errorSamples.map { .string($0) })),
            ("seconds", .double(report.seconds)), ("throughput", .double(report.throughput)),
            (
                "latencyMs",
                .object([
                    ("p50", .double(report.latencyMs.p50)), ("p99", .double(report.latencyMs.p99)),
                    ("p999", .double(report.latencyMs.p999)), ("max", .double(report.latencyMs.max)),
                ])
            ),
            (
                "perNode",
                .object(
                    report.perNode.map { entry in
                        (
                            entry.node,
                            .object([
                                ("requests", .int(entry.requests)),
                                ("share", .double(report.requests > 0 ? Double(entry.requests) / Double(report.requests) : 0)),
                            ])
                        )
                    })
            ),
            ("itemsSoldOut", .int(report.itemsSoldOut)), ("shedAnswers", .int(report.shedAnswers)),
            ("payments", .object([("paid", .int(report.payments)), ("refused", .int(report.failedPayments))])),
            ("publishSeconds", .double(report.publishSeconds)),
        ]
        members += invariantMembers(report.invariants)
        members += [
            (
                "requestLog",
                report.requestLogPath.map { path in
                    .object([
                        ("path", .string(path)), ("attempts", .int(report.loggedAttempts)),
                        ("acknowledged", .int(report.loggedAcknowledgements)),
                        ("failedAcknowledgements", .int(report.failedAcknowledgements)), ("failure", .optional(report.requestLogFailure)),
                    ])
                } ?? .null
            ),
            (
                "config",
                .object([
                    ("items", .int(report.config.items)), ("stock", .int(report.config.stock)), ("limit", .int(report.config.limit)),
                    ("users", .int(report.config.users)), ("requests", .int(report.config.requests)),
                    ("concurrency", .int(report.config.concurrency)), ("prefix", .string(report.config.prefix)),
                    ("skew", .double(report.config.skew)), ("hotShare", .optional(report.config.hotShare)),
                    ("seed", .int(Int(report.config.seed))), ("buckets", .int(report.config.buckets)),
                    ("payWithinMs", report.config.payWithin.map { .int(PaymentCommands.milliseconds($0)) } ?? .null),
                    ("payShare", .double(report.config.payShare)),
                ])
            ),
        ]
        return .object(members)
    }

    static func textReport(_ report: SaleRunReport) -> [String] {
        var lines: [String] = []
        let total = max(1, report.requests)
        lines.append("published \(Format.grouped(report.config.items)) items in \(Format.fixed(report.publishSeconds, 2)) s")
        lines.append(
            "\(Format.grouped(report.requests)) attempts in \(Format.fixed(report.seconds, 2)) s: \(Format.grouped(Int(report.throughput))) attempts/s"
        )
        var table = Table(header: ["RESULT", "ATTEMPTS", "SHARE"], rightAligned: [1, 2])
        for kind in kinds where report.results[kind, default: 0] > 0 || kind == "purchased" || kind == "soldOut" || kind == "limitReached" {
            let count = report.results[kind, default: 0]
            table.add([kind, Format.grouped(count), Format.percent(Double(count) / Double(total))])
        }
        table.add(["errors", Format.grouped(report.errors), Format.percent(Double(report.errors) / Double(total))])
        lines += table.render().map { "  " + $0 }
        for sample in report.errorSamples { lines.append("  error: \(sample)") }
        lines.append(
            "latency ms: p50 \(Format.fixed(report.latencyMs.p50, 3))  p99 \(Format.fixed(report.latencyMs.p99, 3))  p99.9 \(Format.fixed(report.latencyMs.p999, 3))  max \(Format.fixed(report.latencyMs.max, 3))"
        )
        var nodes = Table(header: ["NODE", "ATTEMPTS", "SHARE"], rightAligned: [1, 2])
        for (node, count) in report.perNode {
            nodes.add([node, Format.grouped(count), Format.percent(Double(count) / Double(total))])
        }
        lines += nodes.render().map { "  " + $0 }
        if let path = report.requestLogPath {
            lines.append(
                "request log \(path): \(Format.grouped(report.loggedAttempts)) attempts and \(Format.grouped(report.loggedAcknowledgements)) purchases written (retry them with seckill retry \(path))"
            )
            if let failure = report.requestLogFailure { lines.append("  \(failure)") }
        }
        lines.append(
            "items sold out: \(Format.grouped(report.itemsSoldOut)) of \(Format.grouped(report.config.items)); \(Format.grouped(report.shedAnswers)) sold-out answers given in process without a round trip"
        )
        if let within = report.config.payWithin {
            lines.append(
                "payments (deadline \(PaymentCommands.milliseconds(within)) ms): \(Format.grouped(report.payments)) orders paid right after buying, \(Format.grouped(report.failedPayments)) refused or failed; unpaid orders are released by the sweep every second (seckill orders sweep releases the rest once due)"
            )
        }
        lines += invariantLines(report.invariants)
        lines.append("invariantsHold: \(report.invariants.holds)")
        return lines
    }
}
