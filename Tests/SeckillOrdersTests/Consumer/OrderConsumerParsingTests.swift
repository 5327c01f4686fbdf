import SeckillRESP
import Testing

@testable import SeckillOrders

@Suite("OrderConsumer replies and ids")
struct OrderConsumerParsingTests {
    static func entry(_ id: String, _ fields: [String]?) -> RESPValue {
        .array([.bulkString(Array(id.utf8)), fields.map { .array($0.map { .bulkString(Array($0.utf8)) }) } ?? .nullArray])
    }

    @Test("stream ids compare as numbers, not text")
    func idOrder() {
        #expect(OrderConsumer.precedes("9-0", "10-0"))
        #expect(OrderConsumer.precedes("10-2", "10-10"))
        #expect(!OrderConsumer.precedes("10-0", "10-0"))
        #expect(!OrderConsumer.precedes("11-0", "10-99"))
    }

    @Test("XREADGROUP replies in RESP2 and RESP3 give the same entries; a deleted entry has no fields")
    func replyForms() {
        let entries = RESPValue.array([Self.entry("1-0", ["type", "purchase", "user", "u", "qty", "1"]), Self.entry("2-0", nil)])
        let key = RESPValue.bulkString(Array("seckill:{a}:orders".utf8))
        for reply in [RESPValue.array([.array([key, entries])]), .map([key, entries])] {
            let parsed = OrderConsumer.entries(reply)
            #expect(parsed.map(\.id) == ["1-0", "2-0"])
            #expect(parsed[0].fields?.map(\.0) == ["type", "user", "qty"])
            #expect(parsed[1].fields == nil)
        }
        #expect(OrderConsumer.entries(.nullArray).isEmpty)
    }

    @Test("durations become whole milliseconds for XAUTOCLAIM")
    func milliseconds() {
        #expect(OrderConsumer.milliseconds(.seconds(30)) == 30_000)
        #expect(OrderConsumer.milliseconds(.milliseconds(1)) == 1)
        #expect(OrderConsumer.milliseconds(.zero) == 0)
    }

    @Test("invalid settings are refused with the setting named")
    func invalidOptions() {
        var options = OrderConsumerOptions()
        options.maxDeliveries = 0
        #expect(throws: OrderError.self) { try options.validate() }
        options = OrderConsumerOptions()
        options.group = "two words"
        do {
            try options.validate()
            Issue.record("accepted a group with a space")
        } catch {
            #expect(error.message.contains("consumer group \"two words\""))
        }
    }
}
