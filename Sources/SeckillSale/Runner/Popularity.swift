internal import Foundation

/// Picks items the way shoppers do in a flash sale: a few hot items draw most requests and a
/// long tail draws the rest (a Zipf distribution, weight of rank k proportional to 1/k^s).
public struct Popularity: Sendable {
    private let cumulative: [Double]

    /// - Parameters:
    ///   - items: How many items.
    ///   - skew: The exponent s; 0 is uniform, 1 the classic Zipf, larger is more skewed.
    ///   - hotShare: When given (0 < X < 1), item 0 draws exactly this share of all requests and
    ///     the others share the rest in the proportions they have without it (item k keeps the
    ///     Zipf weight of rank k+1); with one item it draws everything.
    /// - Precondition: `hotShare` is nil or strictly between 0 and 1 (``validHotShare(_:)``).
    public init(items: Int, skew: Double, hotShare: Double? = nil) {
        precondition(hotShare.map(Self.validHotShare) ?? true, "hotShare must be strictly between 0 and 1, got \(hotShare ?? 0)")
        let count = max(1, items)
        var weights = (1...count).map { rank in skew == 0 ? 1 : 1.0 / Foundation.pow(Double(rank), skew) }
        if let hotShare, count > 1 {
            let rest = weights.dropFirst().reduce(0, +)
            weights = [hotShare] + weights.dropFirst().map { $0 / rest * (1 - hotShare) }
        }
        var running = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(count)
        for weight in weights {
            running += weight
            cumulative.append(running)
        }
        self.cumulative = cumulative.map { $0 / running }
    }

    /// Whether `share` may be a hot item's share: finite and strictly between 0 and 1.
    ///
    /// - Parameter share: The share.
    /// - Returns: True when valid.
    public static func validHotShare(_ share: Double) -> Bool { share.isFinite && share > 0 && share < 1 }

    /// The index of an item, drawn with `random`.
    public func pick(using random: inout some RandomNumberGenerator) -> Int {
        let u = Double.random(in: 0..<1, using: &random)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The share of requests item `index` draws.
    public func share(of index: Int) -> Double {
        index == 0 ? cumulative[0] : cumulative[index] - cumulative[index - 1]
    }
}

/// A small, fast, seedable generator (SplitMix64), so a run's requests can be replayed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; equal seeds give equal sequences.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
