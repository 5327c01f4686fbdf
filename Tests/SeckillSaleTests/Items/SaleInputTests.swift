import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

/// Every refused input is refused before any Redis call: the coordinator here points at a
/// port nobody listens on, so a call that reached the network would fail with a Redis error.
@Suite("Refused input")
struct SaleInputTests {
    let coordinator: SaleCoordinator

    init() throws {
        let port = try RedisServer.freePort()
        let config = try ClusterConfig(
            nodes: [NodeConfig(name: "nowhere", host: "127.0.0.1", port: port, slots: [0...16383])],
            pool: PoolSettings(), timeouts: TimeoutSettings(connect: .milliseconds(200), command: .milliseconds(200)),
            auth: nil, database: 0, source: "test"
        ).validated()
        coordinator = SaleCoordinator(
            client: try ClusterClient(config: config, environment: [:]), options: SaleOptions(callDeadline: .milliseconds(300)))
    }

    static let longID = String(repeating: "x", count: 129)
    // 43 three-byte characters: 129 bytes but only 43 Characters.
    static let longUnicodeID = String(repeating: "商", count: 43)

    /// Runs `body` and checks it fails with `.invalidInput` and a message containing `text`.
    func expectRefused(
        _ text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async {
        let error = await #expect(throws: SaleError.self, sourceLocation: sourceLocation) { try await body() }
        #expect(error?.code == .invalidInput, "code of \(String(describing: error))", sourceLocation: sourceLocation)
        #expect(
            error?.message.contains(text) == true, "\(error?.message ?? "no error") should mention \(text)", sourceLocation: sourceLocation)
    }

    @Test("an empty item id is refused")
    func emptyItem() async {
        await expectRefused("item id must not be empty") { _ = try await coordinator.purchase("", user: "u") }
        await expectRefused("item id must not be empty") { _ = try await coordinator.publish("", stock: 1) }
    }

    @Test("an item id with a brace is refused, since braces delimit the hash tag", arguments: ["a{b", "a}b", "{ab}", "}"])
    func itemWithBrace(item: String) async {
        await expectRefused("must not contain { or }") { _ = try await coordinator.purchase(item, user: "u") }
        await expectRefused("must not contain { or }") { _ = try await coordinator.publish(item, stock: 1) }
    }

    @Test(
        "an item id with a control character is refused and the character is shown escaped",
        arguments: ["a\nb", "a\u{0}b", "tab\there", "del\u{7F}"])
    func itemWithControlCharacter(item: String) async {
        await expectRefused("contains a control character") { _ = try await coordinator.purchase(item, user: "u") }
        await expectRefused("\\u{") { _ = try await coordinator.cancel(item, order: "1-0") }
    }

    @Test(
        "an item id of 129 bytes is refused, counting bytes rather than characters",
        arguments: [SaleInputTests.longID, SaleInputTests.longUnicodeID])
    func itemTooLong(item: String) async {
        await expectRefused("item id is 129 bytes long; the most is 128") { _ = try await coordinator.purchase(item, user: "u") }
        await expectRefused("item id is 129 bytes long") { _ = try await coordinator.restock(item, units: 1) }
        await expectRefused("item id is 129 bytes long") { _ = try await coordinator.status([item]) }
        await expectRefused("item id is 129 bytes long") { _ = try await coordinator.buyers(item) }
    }

    @Test("an empty user id is refused")
    func emptyUser() async {
        await expectRefused("user id must not be empty") { _ = try await coordinator.purchase("item", user: "") }
    }

    @Test("a user id with a control character is refused")
    func userWithControlCharacter() async {
        await expectRefused("user id \"a\\u{a}b\" contains a control character") {
            _ = try await coordinator.purchase("item", user: "a\nb")
        }
    }

    @Test("a user id of 129 bytes is refused", arguments: [SaleInputTests.longID, SaleInputTests.longUnicodeID])
    func userTooLong(user: String) async {
        await expectRefused("user id is 129 bytes long; the most is 128") { _ = try await coordinator.purchase("item", user: user) }
    }

    @Test("a quantity of 0, below 0 or above the maximum is refused", arguments: [0, -1, Int.min, SaleInput.maxQuantity + 1])
    func quantityOutOfRange(quantity: Int) async {
        await expectRefused("quantity must be from 1 to \(SaleInput.maxQuantity), got \(quantity)") {
            _ = try await coordinator.purchase("item", user: "u", quantity: quantity)
        }
    }

    @Test("a negative stock or one above the maximum is refused", arguments: [-1, SaleInput.maxUnits + 1])
    func stockOutOfRange(stock: Int) async {
        await expectRefused("stock must be from 0 to \(SaleInput.maxUnits), got \(stock)") {
            _ = try await coordinator.publish("item", stock: stock)
        }
    }

    @Test("a negative per-user limit is refused")
    func negativeLimit() async {
        await expectRefused("limit per user must be from 0 (no limit)") {
            _ = try await coordinator.publish("item", stock: 1, limitPerUser: -1)
        }
    }

    @Test("a sale window that ends before or when it starts is refused", arguments: [(2_000, 1_000), (1_000, 1_000)])
    func windowEndsBeforeStart(start: Int64, end: Int64) async {
        await expectRefused("the sale window must end after it starts (start \(start) ms, end \(end) ms)") {
            _ = try await coordinator.publish("item", stock: 1, window: SaleWindow(startsAtMs: start, endsAtMs: end))
        }
    }

    @Test("a request id with a space is refused")
    func requestIDWithSpace() async {
        await expectRefused("request id \"r 1\" must not contain spaces") {
            _ = try await coordinator.purchase("item", user: "u", requestID: "r 1")
        }
        await expectRefused("must not contain spaces") { _ = try await coordinator.restock("item", units: 1, requestID: "r 1") }
    }

    @Test("an empty or control-character request id is refused")
    func requestIDEmptyOrControl() async {
        await expectRefused("request id must not be empty") { _ = try await coordinator.purchase("item", user: "u", requestID: "") }
        await expectRefused("request id \"r\\u{9}\" contains a control character") {
            _ = try await coordinator.purchase("item", user: "u", requestID: "r\t")
        }
    }

    @Test("restocking 0 or fewer units is refused", arguments: [0, -5])
    func restockNothing(units: Int) async {
        await expectRefused("units must be from 1 to \(SaleInput.maxUnits), got \(units)") {
            _ = try await coordinator.restock("item", units: units)
        }
    }

    @Test("a malformed order id is refused", arguments: ["", "abc", "1-", "-1", "1-2-3", "1_0", "１-0", "1-0 ", "123"])
    func malformedOrder(order: String) async {
        await expectRefused("is not of the form MILLISECONDS-SEQUENCE") { _ = try await coordinator.cancel("item", order: order) }
    }

    @Test("an order id whose numbers do not fit a stream id is refused before reaching Redis")
    func orderIDOverflow() async {
        // 20 digits pass a digit count check but exceed UInt64, which Redis refuses.
        await expectRefused("is not of the form MILLISECONDS-SEQUENCE") {
            _ = try await coordinator.cancel("item", order: "99999999999999999999-0")
        }
    }

    @Test("ids at the limits are accepted: 128 bytes, unicode, braces in user and request ids")
    func limitsAccepted() throws {
        try SaleInput.validateItem(String(repeating: "x", count: 128))
        try SaleInput.validateItem(String(repeating: "é", count: 64))
        try SaleInput.validateItem("商品:2026 #1")
        try SaleInput.validateUser("{user}|with pipes")
        try SaleInput.validateRequestID("{r}-1|x")
        try SaleInput.validateOrder("1763740800000-0")
        try SaleInput.validateOrder("18446744073709551615-18446744073709551615")
    }

    @Test("a call that reaches the dead node fails with a Redis error, not invalid input")
    func validCallReachesTheNetwork() async {
        let error = await #expect(throws: SaleError.self) { _ = try await coordinator.purchase("item", user: "u") }
        #expect(error?.code == .redis)
    }
}
