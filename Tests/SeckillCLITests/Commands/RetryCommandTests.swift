import Foundation
import SeckillTestSupport
import Testing

/// A client that dies mid-sale: `seckill sale --request-log FILE` is SIGKILLed while it sells,
/// and `seckill retry FILE` in a new process re-sends every logged attempt.
@Suite("seckill retry of a request log", .serialized, .timeLimit(.minutes(2)))
struct RetryCommandTests {
    /// One line of a request log, as this test reads it (independently of the parser under test).
    struct LoggedAttempt {
        var item: String
        var user: String
        var line: Int
    }

    /// The complete lines of a log: attempts by request id, and order ids by request id.
    static func readLog(_ text: String) -> (attempts: [String: LoggedAttempt], acknowledged: [String: String], attemptLines: Int) {
        var attempts: [String: LoggedAttempt] = [:]
        var acknowledged: [String: String] = [:]
        var attemptLines = 0
        // Only lines ended by a newline: a last line without one was torn by the kill.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        for (number, line) in lines.enumerated() where !line.hasPrefix("#") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if fields.count == 4 {
                attempts[fields[3]] = LoggedAttempt(item: fields[0], user: fields[1], line: number + 1)
                attemptLines += 1
            } else if fields.count == 3 && fields[0] == "A" {
                acknowledged[fields[1]] = fields[2]
            }
        }
        return (attempts, acknowledged, attemptLines)
    }

    /// What one item's keys hold, read from the node that has it.
    struct ItemState {
        var total: Int
        var sold: Int
        var limit: Int
        var buyers: [String: Int]
        /// Purchase entries: order id -> (request id, user, quantity).
        var purchases: [String: (request: String, user: String, quantity: Int)]
    }

    static func readItem(_ item: String, ports: [Int]) throws -> ItemState? {
        let meta = "seckill:{\(item)}"
        for port in ports {
            let replies = try AdminConnection.commands(
                port: port,
                [
                    ["HMGET", meta, "total", "sold", "limit"], ["HGETALL", meta + ":buyers"], ["XRANGE", meta + ":orders", "-", "+"],
                ])
            let fields = replies[0].array ?? []
            guard fields.count == 3, let total = fields[0].string.flatMap({ Int($0) }) else { continue }
            var state = ItemState(
                total: total, sold: fields[1].string.flatMap { Int($0) } ?? 0, limit: fields[2].string.flatMap { Int($0) } ?? 0,
                buyers: [:], purchases: [:])
            let flat = replies[1].array ?? []
            for index in stride(from: 0, to: flat.count - 1, by: 2) {
                state.buyers[flat[index].string ?? ""] = Int(flat[index + 1].string ?? "") ?? 0
            }
            for entry in replies[2].array ?? [] {
                guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let pairs = parts[1].array else { continue }
                var values: [String: String] = [:]
                for index in stride(from: 0, to: pairs.count - 1, by: 2) { values[pairs[index].string ?? ""] = pairs[index + 1].string }
                if values["type"] == "purchase" {
                    state.purchases[id] = (values["request"] ?? "", values["user"] ?? "", Int(values["qty"] ?? "") ?? 0)
                }
            }
            return state
        }
        return nil
    }

    @Test(
        "a sale SIGKILLed mid-sale, then retried from its request log: no request bought twice, every acknowledged order kept with its order id, invariants hold"
    )
    func killedSaleRetried() throws {
        let servers = try (0..<3).map { _ in try RedisServer() }
        let ports = servers.map(\.port)
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.threeNodes(ports: ports))
        let logPath = directory.file("requests.log")
        let prefix = "crash-\(UUID().uuidString.prefix(8))"
        let (items, stock, limit) = (6, 1_500, 3)
        // 9,000 units for 40,000 attempts: the stock lasts well past the first purchases, so the
        // kill lands while units are still being bought and acknowledged.
        let sale = try SeckillExecutable.start([
            "sale", "--config", config, "--items", String(items), "--stock", String(stock), "--limit", String(limit),
            "--users", "5000", "--requests", "40000", "--concurrency", "32", "--skew", "0.5", "--prefix", prefix,
            "--request-log", logPath,
        ])

        // Kill once a few hundred purchases are acknowledged in the log (polled, no fixed sleep).
        let deadline = Date().addingTimeInterval(30)
        var acknowledgedAtKill = 0
        while Date() < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            acknowledgedAtKill = text.components(separatedBy: "\nA ").count - 1
            if acknowledgedAtKill >= 300 { break }
            if !sale.isRunning {
                let ended = try sale.wait()
                Issue.record(
                    "the sale ended (exit \(ended.status)) before 300 purchases were acknowledged: \(ended.stdout) \(ended.stderr)")
                return
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        try #require(acknowledgedAtKill >= 300, "no acknowledged purchases in the log within 30 s")
        let status = sale.kill(SIGKILL)
        #expect(status == 128 + SIGKILL, "the sale must still be running when killed")

        let logged = try String(contentsOfFile: logPath, encoding: .utf8)
        let log = Self.readLog(logged)
        #expect(log.acknowledged.count >= 300)
        #expect(log.acknowledged.count < items * stock, "killed mid-sale, before every unit was sold")
        #expect(log.acknowledged.keys.allSatisfy { log.attempts[$0] != nil }, "every A line follows its attempt line")

        // A new process retries every logged request id.
        let retry = try SeckillExecutable.run(["retry", logPath, "--config", config, "--concurrency", "32", "--json"])
        #expect(retry.status == 0, "\(retry.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(retry.stdout.utf8)) as? [String: Any], "\(retry.stdout)")
        #expect(report.number("attempts") == Double(log.attempts.count))
        #expect(report.number("duplicates") == Double(log.attemptLines - log.attempts.count))
        #expect(report.number("failed") == 0, "\(report["errorSamples"] ?? "")")
        #expect(report.number("malformedCount") == 0, "\(report["malformed"] ?? "")")
        #expect(report.number("acknowledged") == Double(log.acknowledged.count))
        #expect(report.number("acknowledgedConfirmed") == Double(log.acknowledged.count), "\(report["mismatches"] ?? "")")
        #expect(report.number("mismatchCount") == 0)
        #expect((report.number("bought") ?? 0) >= Double(log.acknowledged.count))
        #expect(report.bool("invariantsHold") == true, "\(report["violations"] ?? "")")

        // Redis, read item by item on the nodes, independently of both processes.
        var purchasesByRequest: [String: Int] = [:]
        var orderOfRequest: [String: (item: String, order: String)] = [:]
        var boughtInAll = 0
        for index in 0..<items {
            let item = "\(prefix)-\(index)"
            let state = try #require(try Self.readItem(item, ports: ports), "\(item) is on no node")
            let streamUnits = state.purchases.values.reduce(0) { $0 + $1.quantity }
            #expect(state.total == stock)
            #expect(state.sold >= 0 && state.sold <= state.total, "\(item): sold \(state.sold) of \(state.total)")
            #expect(state.sold == state.buyers.values.reduce(0, +), "\(item): sold == sum of the buyers")
            #expect(state.sold == streamUnits, "\(item): sold == purchases in the orders stream")
            #expect(state.limit == limit)
            for (user, units) in state.buyers { #expect(units >= 1 && units <= limit, "\(item): \(user) holds \(units)") }
            for (order, purchase) in state.purchases {
                purchasesByRequest[purchase.request, default: 0] += 1
                orderOfRequest[purchase.request] = (item, order)
            }
            boughtInAll += state.purchases.count
        }
        let twice = purchasesByRequest.filter { $0.value > 1 }
        #expect(twice.count == 0, "request ids with more than one purchase entry: \(twice.prefix(5).map(\.key))")
        // Every purchase comes from a logged attempt: its line was written before it was sent.
        let unlogged = purchasesByRequest.keys.filter { log.attempts[$0] == nil }
        #expect(unlogged.count == 0, "purchases whose request id is not in the log, e.g. \(unlogged.prefix(5))")
        for (request, order) in log.acknowledged {
            let found = orderOfRequest[request]
            #expect(
                found?.order == order && found?.item == log.attempts[request]?.item,
                "acknowledged order \(order) of request \(request) is not in its item's stream (found \(String(describing: found)))")
        }
        #expect(report.number("bought") == Double(boughtInAll), "every purchase in the streams is a logged attempt the retry confirmed")
    }

    @Test("malformed lines are reported by number and not retried, a torn last line is skipped with a note, exit 1")
    func malformedAndTornLines() async throws {
        let server = try RedisServer()
        let directory = try TemporaryDirectory()
        let config = try directory.write("cluster.json", ClusterFile.text([.init(name: "solo", port: server.port, slots: [0...16383])]))
        let item = "retry-\(UUID().uuidString.prefix(8))"
        await CLIRun.expectSuccess(["publish", item, "--stock", "10", "--limit", "1", "--config", config])
        let logPath = try directory.write(
            "requests.log",
            """
            # a request log
            \(item) user-1 1 r-1
            this is not a record
            A r-404 1-0
            \(item) user-2 many r-2
            \(item) user-1 1 r-1
            \(item) user-3 1 r-3
            \(item) user-4 1 r-
            """)
        let text = await CLIRun.run(["retry", logPath, "--config", config])
        #expect(text.status == 1)
        #expect(text.stdout.contains("note: line 8 has no newline"), "\(text.stdout)")
        #expect(
            text.stderrLines == [
                "seckill: \(logPath): 3 malformed lines not retried: line 3: expected \"ITEM USER QUANTITY REQUEST\" or \"A REQUEST ORDER\", got \"this is not a record\""
            ])

        let run = await CLIRun.run(["retry", logPath, "--config", config, "--json"])
        #expect(run.status == 1)
        let report = try run.jsonObject()
        #expect(report.number("lines") == 8)
        #expect(report.number("tornLine") == 8)
        #expect(report.number("attempts") == 2)
        #expect(report.number("duplicates") == 1)
        #expect(report.number("bought") == 2)
        #expect(report.number("failed") == 0)
        let malformed = try #require(report["malformed"] as? [[String: Any]])
        #expect(malformed.compactMap { $0.number("line") } == [3, 4, 5])
        #expect(malformed[1].string("message") == "acknowledges request id r-404, which no earlier line attempts")
        #expect(malformed[2].string("message")?.hasPrefix("quantity \"many\"") == true)
        // Retried twice, still one unit each; the torn attempt was never sent.
        let buyers = try await CLIRun.run(["buyers", item, "--config", config, "--json"]).jsonArray()
        #expect(Set(buyers.compactMap { $0.string("user") }) == ["user-1", "user-3"])
        #expect(buyers.allSatisfy { $0.number("units") == 1 })
    }
}
