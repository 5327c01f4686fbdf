import Foundation
import SeckillOrders
import Testing

@Suite("SQLiteOrderSink")
struct SQLiteOrderSinkTests {
    let directory: TemporaryDirectory
    init() throws { directory = try TemporaryDirectory() }

    static let stream = OrdersStream(key: "seckill:{shoe}:orders", item: "shoe", bucket: nil)

    static func event(
        _ kind: OrderEvent.Kind, entry: String, order: String? = nil, user: String = "u1", quantity: Int = 1, payBy: Int64? = nil,
        stream: OrdersStream = stream
    ) -> OrderEvent {
        OrderEvent(
            kind: kind, item: stream.item, stream: stream.key, entry: entry, order: order ?? stream.order(entry), user: user,
            quantity: quantity,
            payBy: payBy, at: Int64(entry.split(separator: "-")[0])!)
    }

    @Test("the same batch committed twice changes nothing the second time")
    func idempotent() async throws {
        let sink = try SQLiteOrderSink(path: directory.file("a.db"))
        let batch = [
            Self.event(.purchase, entry: "1000-0", payBy: 5000), Self.event(.purchase, entry: "1001-0", user: "u2", quantity: 2),
            Self.event(.paid, entry: "1002-0", order: "1000-0"),
            Self.event(.cancel, entry: "1003-0", order: "1001-0", user: "u2", quantity: 2),
        ]
        let first = try await sink.commit(batch)
        #expect(first == OrderSinkResult(inserted: 2, updated: 2, unchanged: 0))
        let rows = try sink.orders()
        let second = try await sink.commit(batch)
        #expect(second == OrderSinkResult(inserted: 0, updated: 0, unchanged: 4))
        #expect(try sink.orders() == rows)
        #expect(rows.map(\.state) == [.paid, .cancelled])
        #expect(rows[0].payBy == 5000 && rows[0].paidAt == 1002 && rows[0].purchasedAt == 1000)
        #expect(rows[1].cancelledAt == 1003 && rows[1].quantity == 2 && rows[1].user == "u2")
    }

    @Test("purchases become confirmed without a deadline and unpaid with one; paid, cancel and release move them")
    func transitions() throws {
        let sink = try SQLiteOrderSink(path: directory.file("b.db"))
        _ = try sink.commitNow([
            Self.event(.purchase, entry: "10-0"), Self.event(.purchase, entry: "11-0", payBy: 99),
            Self.event(.purchase, entry: "12-0", payBy: 99),
            Self.event(.purchase, entry: "13-0", payBy: 99), Self.event(.purchase, entry: "14-0", payBy: 99),
        ])
        #expect(try sink.orders().map(\.state) == [.confirmed, .unpaid, .unpaid, .unpaid, .unpaid])
        _ = try sink.commitNow([
            Self.event(.paid, entry: "20-0", order: "11-0"), Self.event(.release, entry: "21-0", order: "12-0"),
            Self.event(.cancel, entry: "22-0", order: "13-0"), Self.event(.cancel, entry: "23-0", order: "10-0"),
            // A release after a payment never happens in Redis; if one came, the payment stands.
            Self.event(.paid, entry: "24-0", order: "14-0"), Self.event(.release, entry: "25-0", order: "14-0"),
        ])
        let rows = try sink.orders()
        #expect(rows.map(\.state) == [.cancelled, .paid, .released, .cancelled, .paid])
        #expect(rows[2].releasedAt == 21)
        #expect(rows[4].releasedAt == 25, "the time is recorded, the state is not moved")
    }

    @Test("events arriving before their purchase end in the same state as in order")
    func outOfOrder() throws {
        let inOrder = try SQLiteOrderSink(path: directory.file("c.db"))
        let reversed = try SQLiteOrderSink(path: directory.file("d.db"))
        let events = [
            Self.event(.purchase, entry: "30-0", payBy: 77), Self.event(.paid, entry: "31-0", order: "30-0"),
            Self.event(.cancel, entry: "32-0", order: "30-0"),
            Self.event(.purchase, entry: "33-0", payBy: 77), Self.event(.release, entry: "34-0", order: "33-0"),
        ]
        _ = try inOrder.commitNow(events)
        for event in events.reversed() { _ = try reversed.commitNow([event]) }
        #expect(try reversed.orders() == inOrder.orders())
        #expect(try inOrder.orders().map(\.state) == [.cancelled, .released])
        #expect(try reversed.orders().first?.payBy == 77, "the purchase arriving last still fills the deadline")
    }

    @Test("two items' streams may give the same order id: each keeps its own row")
    func sameOrderIdTwoItems() throws {
        let sink = try SQLiteOrderSink(path: directory.file("e.db"))
        let other = OrdersStream(key: "seckill:{hat}:orders", item: "hat", bucket: nil)
        let bucket = OrdersStream(key: "seckill:b:{cap#3.2.1.7}:orders", item: "cap", bucket: 1)
        _ = try sink.commitNow([
            Self.event(.purchase, entry: "40-0"), Self.event(.purchase, entry: "40-0", stream: other),
            Self.event(.purchase, entry: "40-0", stream: bucket),
        ])
        #expect(try sink.orders().map { "\($0.item) \($0.order)" } == ["cap 1:40-0", "hat 40-0", "shoe 40-0"])
    }

    @Test("stream keys of both forms name their item and bucket")
    func streamKeys() {
        #expect(OrdersStream(key: "seckill:{a#b}:orders") == OrdersStream(key: "seckill:{a#b}:orders", item: "a#b", bucket: nil))
        #expect(
            OrdersStream(key: "seckill:b:{a#b#4.3.2.9}:orders")
                == OrdersStream(key: "seckill:b:{a#b#4.3.2.9}:orders", item: "a#b", bucket: 2))
        #expect(OrdersStream(key: "seckill:{a}:orders:dead") == nil)
        #expect(OrdersStream(key: "seckill:{a}:buyers") == nil)
    }

    @Test("a malformed entry is refused with a reason naming the field")
    func malformed() {
        let fields = ["type": "purchase", "user": "u", "qty": "lots"]
        #expect(throws: OrderError.self) { try OrderEvent.parse(source: Self.stream, entry: "1-0", fields: fields) }
        do {
            _ = try OrderEvent.parse(source: Self.stream, entry: "1-0", fields: fields)
        } catch {
            #expect(error.message.contains("qty \"lots\""))
        }
        let paid = try? OrderEvent.parse(
            source: Self.stream, entry: "5-0", fields: ["type": "paid", "order": "1-0", "user": "u", "qty": "1"])
        #expect(paid?.order == "1-0" && paid?.kind == .paid && paid?.purchasedAt == 1)
    }

    @Test("a database that cannot be opened names the file")
    func unopenable() {
        let path = directory.file("missing-dir/x.db")
        do {
            _ = try SQLiteOrderSink(path: path)
            Issue.record("opened \(path)")
        } catch {
            #expect(error.message.contains(path))
        }
    }
}
