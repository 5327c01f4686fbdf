import SeckillSale

/// `seckill retry FILE`: re-sends every attempt of a request log written by
/// `seckill sale --request-log FILE`, typically after that process died.
enum RetryCommand {
    static let spec = CommandSpec(
        name: "retry",
        summary:
            "Re-sends every purchase attempt of a request log (seckill sale --request-log) with its own request id: nothing buys twice.",
        usage: "FILE [--concurrency C] [--no-check] [--config FILE] [--json]",
        options: [("--concurrency", "C: attempts in flight (default 64)"), ConfigLoading.option],
        flags: [
            ("--no-check", "Skip the invariant check of the log's items."),
            ("--json", "Print the report as one JSON object."),
        ],
        details: """
            FILE holds "ITEM USER QUANTITY REQUEST" per attempt and "A REQUEST ORDER" per acknowledged purchase (see
            seckill sale --help). Each attempt is sent again with its request id: one that bought gets its recorded answer
            back (the same order id) and buys nothing more; one that was refused or never sent is evaluated afresh. This
            holds as long as the item exists (until it is unpublished or published again with --replace). Prints how many attempts were
            confirmed bought, refused or failed, whether every acknowledged purchase came back with its order id, and the
            invariants of the log's items read back from Redis.
            A last line without a newline was torn by the kill and is skipped with a note (its attempt was never sent).
            Exits 1 when a line is malformed (each is reported with its number), an attempt failed (run it again), an
            acknowledged purchase did not come back with its order id, or an invariant fails.
            """)

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        guard arguments.positionals.count == 1, let path = arguments.positionals.first else {
            throw CLIError.usage(
                "retry",
                arguments.positionals.isEmpty ? "the request log FILE is required" : "takes one FILE, got \(arguments.positionals.count)")
        }
        let concurrency = try arguments.integer("--concurrency", default: 64, in: 1...100_000)
        let log: RequestLogContents
        do {
            log = try RequestLogContents.read(path: path)
        } catch {
            throw ConfigLoading.failure(error)
        }
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let report: RetryReport
        do {
            report = try await SaleRunner(coordinator: coordinator).retry(
                log, concurrency: concurrency, checkInvariants: !arguments.flag("--no-check"))
        } catch {
            throw ConfigLoading.failure(error)
        }
        await ConfigLoading.finish(coordinator)
        if arguments.flag("--json") {
            console.out(jsonReport(report, log: log, path: path).render(pretty: false))
        } else {
            for line in textReport(report, log: log, path: path) { console.out(line) }
        }
        if let first = report.invariants.violations.first {
            throw CLIError(
                "invariants do not hold: \(first)\(report.invariants.violations.count > 1 ? " (and \(report.invariants.violations.count - 1) more)" : "")"
            )
        }
        if let first = report.mismatches.first {
            throw CLIError("\(report.mismatchCount) acknowledged purchases did not come back with their order id: \(first)")
        }
        if report.failed > 0 {
            throw CLIError(
                "\(report.failed) attempts failed and their outcome is unknown: run seckill retry \(path) again (\(report.errorSamples.first ?? ""))"
            )
        }
        if let first = log.problems.first {
            throw CLIError("\(path): \(log.problems.count) malformed line\(log.problems.count == 1 ? "" : "s") not retried: \(first)")
        }
        if let first = report.invariants.unreadable.first {
            throw CLIError("invariants not checked for \(report.invariants.unreadable.count) items: \(first)")
        }
    }

    static func jsonReport(_ report: RetryReport, log: RequestLogContents, path: String) -> JSONOutput {
        var results: [(String, JSONOutput)] = []
        for kind in PurchaseResult.kinds { results.append((kind, .int(report.results[kind, default: 0]))) }
        return .object(
            [
                ("file", .string(path)), ("lines", .int(log.lines)), ("attempts", .int(report.attempts)),
                ("duplicates", .int(log.duplicates)),
                ("bought", .int(report.bought)), ("refused", .int(report.refused)), ("failed", .int(report.failed)),
                ("results", .object(results)),
                ("errorSamples", .array(report.errorSamples.map { .string($0) })),
                ("acknowledged", .int(report.acknowledged)), ("acknowledgedConfirmed", .int(report.acknowledgedConfirmed)),
                ("mismatchCount", .int(report.mismatchCount)), ("mismatches", .array(report.mismatches.map { .string($0) })),
                ("malformedCount", .int(log.problems.count)),
                (
                    "malformed",
                    .array(log.problems.prefix(50).map { .object([("line", .int($0.line)), ("message", .string($0.message))]) })
                ),
                ("tornLine", log.tornLine.map { .int($0) } ?? .null),
                ("seconds", .double(report.seconds)), ("items", .int(report.items)),
            ] + SaleCommand.invariantMembers(report.invariants))
    }

    static func textReport(_ report: RetryReport, log: RequestLogContents, path: String) -> [String] {
        var lines = [
            "\(path): \(Format.grouped(log.lines)) lines, \(Format.grouped(report.attempts)) attempts (\(Format.grouped(log.duplicates)) repeated lines), \(Format.grouped(report.acknowledged)) acknowledged purchases"
        ]
        if let torn = log.tornLine {
            lines.append("  note: line \(torn) has no newline (torn by the kill while it was written): skipped, its attempt was never sent")
        }
        for problem in log.problems.prefix(20) { lines.append("  malformed: \(problem)") }
        if log.problems.count > 20 { lines.append("  ... and \(log.problems.count - 20) more malformed lines") }
        lines.append("retried \(Format.grouped(report.attempts)) attempts in \(Format.fixed(report.seconds, 2)) s:")
        var table = Table(header: ["RESULT", "ATTEMPTS"], rightAligned: [1])
        table.add(["bought", Format.grouped(report.bought)])
        for kind in PurchaseResult.kinds where kind != "purchased" && report.results[kind, default: 0] > 0 {
            table.add(["refused: \(kind)", Format.grouped(report.results[kind, default: 0])])
        }
        table.add(["refused", Format.grouped(report.refused)])
        table.add(["failed", Format.grouped(report.failed)])
        lines += table.render().map { "  " + $0 }
        for sample in report.errorSamples { lines.append("  error: \(sample)") }
        lines.append(
            "acknowledged purchases confirmed with the same order id: \(Format.grouped(report.acknowledgedConfirmed)) of \(Format.grouped(report.acknowledged))"
        )
        for mismatch in report.mismatches.prefix(20) { lines.append("  mismatch: \(mismatch)") }
        let check = report.invariants
        if check.items > 0 || !check.unreadable.isEmpty { lines += SaleCommand.invariantLines(check) }
        return lines
    }
}
