import SeckillSale
import Testing

@Suite("Popularity")
struct PopularityTests {
    @Test("skew 0 gives every item the same share")
    func uniform() {
        let popularity = Popularity(items: 8, skew: 0)
        for index in 0..<8 { #expect(abs(popularity.share(of: index) - 0.125) < 1e-12) }
    }

    @Test("skew 1 gives item k a share proportional to 1/k, summing to 1")
    func zipf() {
        let popularity = Popularity(items: 100, skew: 1)
        let harmonic = (1...100).reduce(0.0) { $0 + 1.0 / Double($1) }
        for index in [0, 1, 9, 99] {
            #expect(abs(popularity.share(of: index) - 1.0 / (Double(index + 1) * harmonic)) < 1e-12)
        }
        #expect(abs((0..<100).reduce(0.0) { $0 + popularity.share(of: $1) } - 1) < 1e-9)
    }

    @Test("draws follow the shares and stay in range")
    func draws() {
        let popularity = Popularity(items: 10, skew: 1)
        var random = SeededRandom(seed: 7)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 { counts[popularity.pick(using: &random)] += 1 }
        for index in 0..<10 {
            #expect(abs(Double(counts[index]) / 100_000 - popularity.share(of: index)) < 0.01, "item \(index)")
        }
    }

    @Test("one item always draws index 0")
    func singleItem() {
        let popularity = Popularity(items: 1, skew: 1.2)
        var random = SeededRandom(seed: 1)
        #expect((0..<100).allSatisfy { _ in popularity.pick(using: &random) == 0 })
        #expect(popularity.share(of: 0) == 1)
    }

    @Test("equal seeds give equal sequences, different seeds different ones")
    func seededRandom() {
        var a = SeededRandom(seed: 99)
        var b = SeededRandom(seed: 99)
        var c = SeededRandom(seed: 100)
        let first = (0..<16).map { _ in a.next() }
        #expect(first == (0..<16).map { _ in b.next() })
        #expect(first != (0..<16).map { _ in c.next() })
    }
}
