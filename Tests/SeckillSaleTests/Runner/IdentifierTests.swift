import Testing

@testable import SeckillSale

@Suite("Request and shopper ids")
struct IdentifierTests {
    @Test("request ids are distinct, valid, and short enough to stay inline for the first billion")
    func requestIDs() throws {
        var seen = Set<String>()
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for _ in 0..<100_000 {
            let id = SaleCoordinator.newRequestID()
            #expect(seen.insert(id).inserted, "\(id) was made twice")
            #expect((11...15).contains(id.utf8.count), "\(id) is \(id.utf8.count) bytes")
            #expect(id.utf8.allSatisfy(alphabet.contains), "\(id) has a byte outside the URL-safe base-64 alphabet")
        }
        let sample = try #require(seen.first)
        try SaleInput.validateRequestID(sample)
        // The first ten characters are the process's random prefix, shared by every id.
        #expect(Set(seen.map { $0.prefix(10) }).count == 1)
    }

    @Test("a shopper id is user-NUMBER, as string interpolation writes it")
    func shopperIDs() {
        for number in [0, 1, 9, 10, 99, 100, 12_345, 999_999, 1_000_000, 999_999_999, Int.max] {
            #expect(SaleRunner.userID(number) == "user-\(number)")
        }
    }

    @Test("each script's SHA slot is its position among all scripts")
    func scriptIndexes() {
        for (position, script) in SaleScript.allCases.enumerated() { #expect(script.index == position) }
    }
}
