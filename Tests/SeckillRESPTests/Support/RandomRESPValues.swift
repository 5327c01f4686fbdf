import SeckillRESP

/// Builds random but encodable RESPValues: every case, nested aggregates, binary payloads
/// full of CR, LF and NUL, empty strings and edge-case numbers.
struct RandomRESPValues {
    var rng: SplitMix64
    /// Aggregates are only generated above this depth, to keep values small enough that
    /// decoding every prefix (quadratic in the size) stays fast in debug builds.
    var maxDepth = 4

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
    }

    mutating func value(depth: Int = 1) -> RESPValue {
        let kinds = depth <= maxDepth ? 20 : 14
        switch rng.below(kinds) {
        case 0: return .simpleString(text())
        case 1: return .error("ERR " + text())
        case 2: return .integer(integer())
        case 3, 4: return .bulkString(bytes())
        case 5: return .nullBulkString
        case 6: return .nullArray
        case 7: return .null
        case 8: return .boolean(rng.oneIn(2))
        case 9: return .double(double())
        case 10: return .bigNumber(bigNumber())
        case 11: return .bulkError(bytes())
        case 12: return .verbatimString(format: rng.pick(["txt", "mkd", "x:y"]), text: bytes())
        case 13: return .integer(Int64(rng.below(10)))
        case 14, 15, 16: return .array(elements(depth: depth))
        case 17:
            let pairs = rng.below(3)
            return .map((0..<(pairs * 2)).map { _ in value(depth: depth + 1) })
        case 18: return .set(elements(depth: depth))
        default: return .push(elements(depth: depth))
        }
    }

    private mutating func elements(depth: Int) -> [RESPValue] {
        let count = rng.oneIn(6) ? 0 : 1 + rng.below(4)
        return (0..<count).map { _ in value(depth: depth + 1) }
    }

    /// Text without CR or LF (which simple strings cannot carry), sometimes empty, sometimes not ASCII.
    private mutating func text() -> String {
        let pieces = ["a", "Z", "0", " ", ":", "$", "*", "-", "\u{E9}", "\u{1F680}", "\t", "\u{0}"]
        let count = rng.oneIn(5) ? 0 : rng.below(12)
        return (0..<count).map { _ in rng.pick(pieces) }.joined()
    }

    /// Bytes biased towards those that break naive parsers.
    private mutating func bytes() -> [UInt8] {
        let count: Int
        switch rng.below(10) {
        case 0: count = 0
        case 1: count = 100 + rng.below(200)
        default: count = rng.below(16)
        }
        return (0..<count).map { _ in
            rng.oneIn(3) ? rng.pick([0x0D, 0x0A, 0x00, 0xFF, 0x24, 0x2A]) : UInt8(truncatingIfNeeded: rng.next())
        }
    }

    private mutating func integer() -> Int64 {
        switch rng.below(4) {
        case 0: return rng.pick([0, -1, 1, .max, .min, 9, 10, -10])
        case 1: return Int64(rng.below(1000)) - 500
        default: return Int64(bitPattern: rng.next())
        }
    }

    private mutating func double() -> Double {
        if rng.oneIn(2) {
            return rng.pick([
                0, -0.0, 1.5, -2.25, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e20, 123_456_789,
            ])
        }
        // Arbitrary bit patterns cover subnormals, huge exponents and NaN payloads.
        return Double(bitPattern: rng.next())
    }

    private mutating func bigNumber() -> String {
        let digits = (0..<(1 + rng.below(45))).map { _ in String(rng.below(10)) }.joined()
        return (rng.oneIn(2) ? "-" : "") + digits
    }
}
