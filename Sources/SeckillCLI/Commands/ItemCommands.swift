internal import Foundation
import SeckillSale

/// `seckill publish`, `unpublish`, `restock`, `buy`, `cancel`: one item at a time, for operators.
enum ItemCommands {
    static let jsonFlag = ("--json", "Print the answer as JSON.")
    static let evictionFlag = (
        "--allow-eviction-policy", "Run even on nodes whose maxmemory-policy is not noeviction (they may evict sale state)."
    )

    static let publishSpec = CommandSpec(
        name: "publish",
        summary: "Publishes an item with its stock, per-user limit and optional sale window.",
        usage:
            "ITEM --stock N [--limit L] [--buckets K] [--starts TIME] [--ends TIME] [--pay-within DURATION] [--replace] [--allow-eviction-policy] [--config FILE] [--json]",
        options: [
            ("--stock", "N: units on sale"), ("--limit", "L: units per user, 0 for no limit (default 1)"),
            ("--buckets", "K: split the stock over K buckets on different nodes, for a hot item (default 1: a plain item)"),
            ("--starts", "TIME: when the sale opens, ISO 8601 (2026-11-21T20:00:00+08:00) or unix ms"),
            ("--ends", "TIME: when the sale closes, ISO 8601 or unix ms"),
            ("--pay-within", "DURATION: each order must be paid (seckill pay) within this time (500ms, 90s, 15m, 2h) or is released"),
            ConfigLoading.option,
        ],
        flags: [("--replace", "Reset the item even if it has sales (deletes its buyers and orders)."), evictionFlag, jsonFlag],
        details: """
            Refuses to reset an item that already has sales unless --replace is given. Refuses a node whose
            maxmemory-policy is not noeviction (an evicted request record could let a retry buy twice).
            """)

    static let unpublishSpec = CommandSpec(
        name: "unpublish",
        summary: "Removes an item and every key under its hash tag (counters, buyers, orders, request records).",
        usage: "ITEM [--force] [--config FILE] [--json]",
        options: [ConfigLoading.option],
        flags: [("--force", "Remove the item even if it has sales (deletes its buyers and orders)."), jsonFlag],
        details: "Refuses an item that has sales unless --force is given. Exits 1 when the item is not published.")

    static let restockSpec = CommandSpec(
        name: "restock",
        summary: "Adds units to a published item (also makes a sold-out item purchasable again).",
        usage: "ITEM --units N [--request-id R] [--config FILE] [--json]",
        options: [
            ("--units", "N: units to add"), ("--request-id", "R: repeat-safe id; the same id never adds twice"), ConfigLoading.option,
        ],
        flags: [jsonFlag])

    static let buySpec = CommandSpec(
        name: "buy",
        summary: "Tries to buy units of an item for a user; prints the answer (purchased, soldOut, limitReached, notStarted, ended).",
        usage: "ITEM --user U [--qty Q] [--request-id R] [--config FILE] [--json]",
        options: [
            ("--user", "U: the buyer"), ("--qty", "Q: units (default 1)"),
            ("--request-id", "R: repeat-safe id; the same id returns the first answer and never buys twice"),
            ConfigLoading.option,
        ],
        flags: [jsonFlag],
        details: "Exits 0 with any definite answer, 1 when the item is unknown or Redis failed.")

    static let cancelSpec = CommandSpec(
        name: "cancel",
        summary: "Cancels an order: its units return to stock and to the user's allowance. Cancelling twice changes nothing.",
        usage: "ITEM --order O [--config FILE] [--json]",
        options: [("--order", "O: the order id buy printed"), ConfigLoading.option],
        flags: [jsonFlag])

    static func item(_ arguments: Arguments) throws(CLIError) -> String {
        guard arguments.positionals.count == 1 else {
            throw CLIError.usage(
                arguments.command,
                arguments.positionals.isEmpty ? "give the ITEM" : "give one ITEM, got \(arguments.positionals.count) arguments")
        }
        return arguments.positionals[0]
    }

    static func publish(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try item(arguments)
        let stock = try arguments.requiredInteger("--stock", in: 0...SaleInput.maxUnits)
        let limit = try arguments.integer("--limit", default: 1, in: 0...SaleInput.maxUnits)
        let buckets = try arguments.integer("--buckets", default: 1, in: 1...BucketLayout.maxBuckets)
        let window = SaleWindow(startsAtMs: try time(arguments, "--starts"), endsAtMs: try time(arguments, "--ends"))
        let payWithin = try PaymentCommands.duration(arguments, "--pay-within")
        let coordinator = try await ConfigLoading.coordinator(arguments)
        do {
            let result = try await coordinator.publish(
                item, stock: stock, limitPerUser: limit, window: window, replace: arguments.flag("--replace"), buckets: buckets,
                payWithin: payWithin)
            guard case .published(let epoch) = result else { return }
            if arguments.flag("--json") {
                console.out(
                    JSONOutput.object([
                        ("item", .string(item)), ("result", .string("published")), ("stock", .int(stock)),
                        ("limit", .int(limit)), ("buckets", .int(buckets)), ("epoch", .int(epoch)),
                        ("payWithinMs", payWithin.map { .int(PaymentCommands.milliseconds($0)) } ?? .null),
                    ]).render(pretty: false))
            } else {
                var node = coordinator.client.router.node(forKey: ItemKeys(item: item).meta).name
                if let layout = coordinator.cachedLayout(item) {
                    node =
                        "\(layout.count) buckets on "
                        + (0..<layout.count).map { coordinator.client.router.node(for: layout.slot($0)).name }.joined(separator: ", ")
                }
                console.out(
                    "published \(item): \(Format.grouped(stock)) units, limit \(limit == 0 ? "none" : String(limit)) per user\(describe(window))\(payWithin.map { ", pay within \(arguments.value("--pay-within") ?? "\($0)")" } ?? ""), on \(node), epoch \(epoch)"
                )
            }
        } catch {
            throw ConfigLoading.failure(error)
        }
    }

    static func unpublish(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try item(arguments)
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let result: UnpublishResult
        do {
            result = try await coordinator.unpublish(item, force: arguments.flag("--force"))
        } catch {
            throw ConfigLoading.failure(error)
        }
        guard case .removed(let keys) = result else { throw CLIError("item \(item) is not published") }
        if arguments.flag("--json") {
            console.out(
                JSONOutput.object([("item", .string(item)), ("result", .string("removed")), ("keys", .int(keys))]).render(pretty: false))
        } else {
            console.out("unpublished \(item): \(keys) key\(keys == 1 ? "" : "s") removed")
        }
    }

    static func restock(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try item(arguments)
        let units = try arguments.requiredInteger("--units", in: 1...SaleInput.maxUnits)
        let coordinator = try await ConfigLoading.coordinator(arguments)
        do {
            switch try await coordinator.restock(item, units: units, requestID: arguments.value("--request-id")) {
            case .restocked(let total, let remaining, let epoch):
                if arguments.flag("--json") {
                    console.out(
                        JSONOutput.object([
                            ("item", .string(item)), ("result", .string("restocked")), ("total", .int(total)),
                            ("remaining", .int(remaining)), ("epoch", .int(epoch)),
                        ]).render(pretty: false))
                } else {
                    console.out("restocked \(item): total \(Format.grouped(total)), \(Format.grouped(remaining)) left, epoch \(epoch)")
                }
            case .unknownItem:
                throw CLIError("item \(item) is not published")
            }
        } catch let error as CLIError {
            throw error
        } catch let error as SaleError {
            throw ConfigLoading.failure(error)
        } catch {
            throw CLIError("\(error)")
        }
    }

    static func buy(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try item(arguments)
        guard let user = arguments.value("--user") else { throw CLIError.usage("buy", "--user is required") }
        let quantity = try arguments.integer("--qty", default: 1, in: 1...SaleInput.maxQuantity)
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let result: PurchaseResult
        do {
            result = try await coordinator.purchase(item, user: user, quantity: quantity, requestID: arguments.value("--request-id"))
        } catch {
            throw ConfigLoading.failure(error)
        }
        if case .unknownItem = result { throw CLIError("item \(item) is not published") }
        if arguments.flag("--json") {
            var members: [(String, JSONOutput)] = [
                ("item", .string(item)), ("user", .string(user)), ("quantity", .int(quantity)), ("result", .string(result.kind)),
            ]
            switch result {
            case .purchased(let order, let remaining): members += [("order", .string(order)), ("remaining", .int(remaining))]
            case .soldOut(let remaining): members.append(("remaining", .int(remaining)))
            case .limitReached(let held): members.append(("held", .int(held)))
            case .notStarted(let start): members.append(("startsAtMs", .int(Int(start))))
            case .ended(let end): members.append(("endsAtMs", .int(Int(end))))
            case .unknownItem: break
            }
            console.out(JSONOutput.object(members).render(pretty: false))
            return
        }
        switch result {
        case .purchased(let order, let remaining):
            console.out("purchased \(quantity) x \(item) for \(user): order \(order), \(Format.grouped(remaining)) left")
        case .soldOut(let remaining):
            console.out(
                remaining == 0 ? "sold out: \(item) has no units left" : "sold out: \(item) has only \(remaining) left, \(quantity) asked")
        case .limitReached(let held):
            console.out("limit reached: \(user) already holds \(held) of \(item)")
        case .notStarted(let start):
            console.out("not started: the sale of \(item) opens at \(isoTime(start))")
        case .ended(let end):
            console.out("ended: the sale of \(item) closed at \(isoTime(end))")
        case .unknownItem:
            break
        }
    }

    static func cancel(_ arguments: Arguments, console: Console) async throws(CLIError) {
        let item = try item(arguments)
        guard let order = arguments.value("--order") else { throw CLIError.usage("cancel", "--order is required") }
        let coordinator = try await ConfigLoading.coordinator(arguments)
        let result: CancelResult
        do {
            result = try await coordinator.cancel(item, order: order)
        } catch {
            throw ConfigLoading.failure(error)
        }
        switch result {
        case .unknownItem: throw CLIError("item \(item) is not published")
        case .unknownOrder: throw CLIError("item \(item) has no purchase with order id \(order)")
        case .released(let release, let user, let quantity):
            if arguments.flag("--json") {
                console.out(
                    JSONOutput.object([
                        ("item", .string(item)), ("order", .string(order)), ("result", .string("released")),
                        ("release", .string(release)), ("user", .string(user)), ("quantity", .int(quantity)),
                    ]).render(pretty: false))
            } else {
                console.out(
                    "not cancelled: order \(order) of \(item) was released at its payment deadline (release \(release)); its \(quantity) unit\(quantity == 1 ? "" : "s") went back then"
                )
            }
        case .cancelled(let cancellation, let user, let quantity), .alreadyCancelled(let cancellation, let user, let quantity):
            let again: Bool = if case .alreadyCancelled = result { true } else { false }
            if arguments.flag("--json") {
                console.out(
                    JSONOutput.object([
                        ("item", .string(item)), ("order", .string(order)),
                        ("result", .string(again ? "alreadyCancelled" : "cancelled")),
                        ("cancellation", .string(cancellation)), ("user", .string(user)), ("quantity", .int(quantity)),
                    ]).render(pretty: false))
            } else {
                console.out(
                    "\(again ? "already cancelled" : "cancelled") order \(order) of \(item): \(quantity) unit\(quantity == 1 ? "" : "s") back from \(user) (cancellation \(cancellation))"
                )
            }
        }
    }

    // MARK: Time

    static func time(_ arguments: Arguments, _ name: String) throws(CLIError) -> Int64? {
        guard let text = arguments.value(name) else { return nil }
        if let ms = Int64(text), ms >= 0 { return ms }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        throw CLIError.usage(
            arguments.command, "\(name) must be ISO 8601 with a time zone (2026-11-21T20:00:00Z) or unix milliseconds, got \"\(text)\"")
    }

    static func isoTime(_ ms: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func describe(_ window: SaleWindow) -> String {
        switch (window.startsAtMs, window.endsAtMs) {
        case (nil, nil): ""
        case (let start?, nil): ", opens \(isoTime(start))"
        case (nil, let end?): ", closes \(isoTime(end))"
        case (let start?, let end?): ", open \(isoTime(start)) to \(isoTime(end))"
        }
    }
}
