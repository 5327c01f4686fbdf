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

    @Test("a hot share gives item 0 exactly that share and the rest Zipf over the other items")
    func hotShare() {
        let popularity = Popularity(items: 100, skew: 1, hotShare: 0.5)
        #expect(abs(popularity.share(of: 0) - 0.5) < 1e-12)
        // Items 1...99 keep the Zipf ratios among themselves: rank k+1 against rank 2.
        for index in [2, 9, 99] {
            #expect(abs(popularity.share(of: index) / popularity.share(of: 1) - 2.0 / Double(index + 1)) < 1e-9)
        }
        #expect(abs((0..<100).reduce(0.0) { $0 + popularity.share(of: $1) } - 1) < 1e-9)
        var random = SeededRandom(seed: 3)
        var hot = 0
        for _ in 0..<100_000 where popularity.pick(using: &random) == 0 { hot += 1 }
        #expect(abs(Double(hot) / 100_000 - 0.5) < 0.01, "item 0 drew \(hot) of 100,000")
    }

    @Test("a hot share with uniform skew spreads the rest evenly; with one item it draws everything")
    func hotShareEdges() {
        let uniform = Popularity(items: 5, skew: 0, hotShare: 0.2)
        for index in 0..<5 { #expect(abs(uniform.share(of: index) - 0.2) < 1e-12) }
        #expect(Popularity(items: 1, skew: 1, hotShare: 0.3).share(of: 0) == 1)
    }

    @Test("hot shares must lie strictly between 0 and 1")
    func hotShareValidation() {
        #expect(Popularity.validHotShare(0.5) && Popularity.validHotShare(0.001) && Popularity.validHotShare(0.999))
        for share in [0, 1, -0.1, 1.5, Double.nan, Double.infinity] { #expect(!Popularity.validHotShare(share), "\(share)") }
    }
}
