import Foundation
import SeckillSale
import Testing

@Suite("RequestLog")
struct RequestLogTests {
    static func parse(_ text: String) -> RequestLogContents { RequestLogContents(parsing: Array(text.utf8)) }

    @Test("attempts in order, acknowledgements matched to them, comments and blank lines skipped")
    func wellFormed() {
        let log = Self.parse("# header\nitem-1 user-1 1 r-1\n\nitem-1 user-2 2 r-3\nA r-3 1700000000000-5\n")
        #expect(log.lines == 5)
        #expect(log.problems.isEmpty)
        #expect(log.tornLine == nil)
        #expect(log.attempts.map(\.request) == ["r-1", "r-3"])
        let second = log.attempts[1]
        #expect([second.item, second.user, second.request] == ["item-1", "user-2", "r-3"])
        #expect(second.quantity == 2 && second.line == 4 && second.acknowledgedOrder == "1700000000000-5")
        #expect(log.attempts[0].acknowledgedOrder == nil)
        #expect(log.acknowledged == 1)
    }

    @Test("a last line without a newline is torn: skipped and reported apart from the problems")
    func tornLastLine() {
        let log = Self.parse("item-1 user-1 1 r-1\nitem-1 user-2 1 r-")
        #expect(log.tornLine == 2)
        #expect(log.lines == 2)
        #expect(log.attempts.map(\.request) == ["r-1"])
        #expect(log.problems.isEmpty)
        #expect(Self.parse("").lines == 0)
        #expect(Self.parse("").tornLine == nil)
    }

    @Test("malformed lines are reported with their numbers and not retried")
    func malformed() {
        let log = Self.parse(
            """
            item-1 user-1 1 r-1
            nonsense
            A r-9 1-0
            item-1 user-2 0 r-2
            item-1 user-2 x r-2
            A r-1 not-an-order
            item-{1} user-1 1 r-4
            item-2 user-1 1 r-1
            item-1 user-1 1 r-1
            A r-1 5-0
            A r-1 6-0

            """)
        #expect(log.problems.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 11])
        #expect(log.problems[1].message == "acknowledges request id r-9, which no earlier line attempts")
        #expect(log.problems[2].message == "quantity \"0\" is not an integer from 1 to 1000000")
        #expect(log.problems[6].message == "request id r-1 was logged at line 1 for another purchase (item-1 user-1 1); not retried")
        #expect(log.problems[7].message == "acknowledges request id r-1 with order 6-0, but an earlier line gave order 5-0")
        #expect(log.problems[0].description == "line 2: expected \"ITEM USER QUANTITY REQUEST\" or \"A REQUEST ORDER\", got \"nonsense\"")
        #expect(log.duplicates == 1)
        #expect(log.attempts.map(\.request) == ["r-1"])
        #expect(log.attempts[0].acknowledgedOrder == "5-0")
    }

    @Test("the writer appends a header, attempt and acknowledgement lines that the parser reads back")
    func roundTrip() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("request-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let log = try RequestLog(path: path)
            try log.attempt(item: "item-1", user: "user-1", quantity: 2, request: "r-1")
            log.acknowledge(request: "r-1", order: "1700000000000-0")
            try log.attempt(item: "item-2", user: "user-2", quantity: 1, request: "r-2")
            #expect(log.attempts == 2)
            #expect(log.acknowledgements == 1)
            #expect(throws: SaleError.self) { try log.attempt(item: "item 3", user: "user-3", quantity: 1, request: "r-3") }
        }
        // Reopened: appended to, no second header.
        try RequestLog(path: path).attempt(item: "item-3", user: "user-3", quantity: 1, request: "r-3")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("# seckill request log"))
        #expect(Array(lines.dropFirst()) == ["item-1 user-1 2 r-1", "A r-1 1700000000000-0", "item-2 user-2 1 r-2", "item-3 user-3 1 r-3"])
        let contents = try RequestLogContents.read(path: path)
        #expect(contents.problems.isEmpty)
        #expect(contents.attempts.map(\.request) == ["r-1", "r-2", "r-3"])
        #expect(contents.acknowledged == 1)
    }

    @Test("a log that cannot be opened or read is a requestLog error naming the path")
    func unopenable() {
        #expect { try RequestLog(path: "/nonexistent-dir/requests.log") } throws: { error in
            (error as? SaleError)?.code == .requestLog && (error as? SaleError)?.message.contains("/nonexistent-dir/requests.log") == true
        }
        #expect { try RequestLogContents.read(path: "/nonexistent-dir/requests.log") } throws: { error in
            (error as? SaleError)?.message == "cannot read the request log /nonexistent-dir/requests.log: no such file"
        }
    }
}
