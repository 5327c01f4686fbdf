import SeckillSale
import Testing

/// The purchase script's answers, parsed from their bytes.
@Suite struct PurchaseAnswerTests {
    @Test("every answer the purchase script gives is read back")
    func wellFormed() {
        #expect(SaleCoordinator.parseAnswer("P|1733120000000-0|41")! == (.purchased(order: "1733120000000-0", remaining: 41), .fresh))
        #expect(SaleCoordinator.parseAnswer("P|1-0|0|R")! == (.purchased(order: "1-0", remaining: 0), .replayed))
        #expect(SaleCoordinator.parseAnswer("P|1-0|7|RN")! == (.purchased(order: "1-0", remaining: 7), .replayedUnconfirmed))
        #expect(SaleCoordinator.parseAnswer("S|0")! == (.soldOut(remaining: 0), .fresh))
        #expect(SaleCoordinator.parseAnswer("S|3")! == (.soldOut(remaining: 3), .fresh))
        #expect(SaleCoordinator.parseAnswer("L|2")! == (.limitReached(held: 2), .fresh))
        #expect(SaleCoordinator.parseAnswer("N|1763740800000")! == (.notStarted(startsAtMs: 1_763_740_800_000), .fresh))
        #expect(SaleCoordinator.parseAnswer("E|1763740800000")! == (.ended(endsAtMs: 1_763_740_800_000), .fresh))
        #expect(SaleCoordinator.parseAnswer("U")! == (.unknownItem, .fresh))
    }

    @Test(
        "anything else is refused, not guessed",
        arguments: [
            "", "P", "P|", "P||5", "P|1-0", "P|1-0|", "P|1-0|x", "P|1-0|5|X", "P|1-0|5|R|", "P|1-0|5|R|R", "S", "S|", "S|x", "S|1|2",
            "L|", "Q|1", "U|", "UU", "S|1234567890123456789", "P1-0|5",
        ])
    func malformed(answer: String) {
        #expect(SaleCoordinator.parseAnswer(answer) == nil)
    }
}
