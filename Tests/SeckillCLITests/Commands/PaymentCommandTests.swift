import Foundation
import SeckillTestSupport
import Testing

/// `seckill publish --pay-within`, `pay`, `orders pending` and `orders sweep` against a real node.
@Suite("Payment commands", .timeLimit(.minutes(1)))
struct PaymentCommandTests {
    @Test("pay pays once before the deadline; orders pending lists the unpaid; orders sweep releases the late; a late pay is refused")
    func payPendingSweep() async throws {
        let server = try RedisServer()
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.text([.init(name: "solo", port: server.port, slots: [0...16383])]))
        let item = "pay-\(UUID().uuidString.prefix(8))"
        let quick = "quick-\(item)"
        let published = await CLIRun.run(["publish", item, "--stock", "5", "--pay-within", "1m", "--config", config, "--json"])
        #expect(published.status == 0, "\(published.stderr)")
        #expect(try published.jsonObject().number("payWithinMs") == 60_000)
        await CLIRun.expectSuccess(["publish", quick, "--stock", "5", "--pay-within", "200ms", "--config", config])
        var orders: [String] = []
        for (item, user) in [(item, "alice"), (item, "bob"), (quick, "carol")] {
            let bought = await CLIRun.run(["buy", item, "--user", user, "--json", "--config", config])
            orders.append(try #require(try bought.jsonObject().string("order")))
        }
        let pending = await CLIRun.run(["orders", "pending", item, "--json", "--config", config])
        #expect(pending.status == 0, "\(pending.stderr)")
        let listed = try #require(try pending.jsonObject()["pending"] as? [[String: Any]])
        #expect(Set(listed.compactMap { $0["order"] as? String }) == Set(orders.prefix(2)))
        #expect(listed.allSatisfy { ($0["dueMs"] as? Int ?? 0) > 1_700_000_000_000 })

        let paid = await CLIRun.run(["pay", item, "--order", orders[0], "--config", config])
        #expect(paid.status == 0, "\(paid.stderr)")
        #expect(paid.stdout.hasPrefix("paid order \(orders[0])"), "\(paid.stdout)")
        let again = await CLIRun.run(["pay", item, "--order", orders[0], "--json", "--config", config])
        #expect(again.status == 0)
        #expect(try again.jsonObject().string("result") == "alreadyPaid")
        let text = await CLIRun.run(["orders", "pending", item, "--config", config])
        #expect(text.stdoutLines.first == "\(item): 1 unpaid order", "\(text.stdout)")

        // The quick item's order is past its deadline.
        try await Task.sleep(for: .milliseconds(300))
        let swept = await CLIRun.run(["orders", "sweep", "--json", "--config", config])
        #expect(swept.status == 0, "\(swept.stderr)")
        let sweep = try swept.jsonObject()
        #expect(sweep.number("released") == 1)
        #expect((sweep["items"] as? [String: Any])?[quick] as? Int == 1)
        let late = await CLIRun.run(["pay", quick, "--order", orders[2], "--config", config])
        #expect(late.status == 1)
        #expect(late.stdout.contains("released"), "\(late.stdout)")
        #expect(late.stderrLines == ["seckill: the payment of order \(orders[2]) was refused (released)"])
        let sweptAgain = await CLIRun.run(["orders", "sweep", "--config", config])
        #expect(sweptAgain.stdoutLines.first?.hasPrefix("released 0 unpaid orders") == true, "\(sweptAgain.stdout)")
        let status = await CLIRun.run(["status", item, quick, "--json", "--config", config])
        #expect(try status.jsonArray().map { $0["sold"] as? Int } == [2, 0])
    }

    @Test("bad --pay-within values are refused naming the option; pay needs an order and a deadline item")
    func badInput() async throws {
        let server = try RedisServer()
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.text([.init(name: "solo", port: server.port, slots: [0...16383])]))
        let item = "bad-\(UUID().uuidString.prefix(8))"
        for value in ["15", "ten s", "1.5s", "-3s", "0ms", "90d", "31000h"] {
            let refused = await CLIRun.run(["publish", item, "--stock", "1", "--pay-within", value, "--config", config])
            #expect(refused.status == 2, "\(value)")
            #expect(refused.stderr.contains("--pay-within") && refused.stderr.contains(value), "\(refused.stderr)")
        }
        #expect(try server.cli("EXISTS", "seckill:{\(item)}").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(await CLIRun.run(["pay", item, "--config", config]).status == 2)
        await CLIRun.expectSuccess(["publish", item, "--stock", "1", "--config", config])
        let bought = await CLIRun.run(["buy", item, "--user", "u", "--json", "--config", config])
        let order = try #require(try bought.jsonObject().string("order"))
        let noDeadline = await CLIRun.run(["pay", item, "--order", order, "--config", config])
        #expect(noDeadline.status == 1)
        #expect(noDeadline.stderr.contains("without --pay-within"), "\(noDeadline.stderr)")
        let unknown = await CLIRun.run(["orders", "pending", "nothing-\(item)", "--config", config])
        #expect(unknown.stderrLines == ["seckill: item nothing-\(item) is not published"])
        let group = await CLIRun.run(["orders"])
        #expect(group.status == 2)
        #expect(group.stderr.contains("orders sweep") && group.stderr.contains("orders pending"), "\(group.stderr)")
    }
}
