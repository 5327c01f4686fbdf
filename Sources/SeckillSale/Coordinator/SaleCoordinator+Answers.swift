extension SaleCoordinator {
    /// Where a purchase script's answer came from.
    package enum AnswerSource: Sendable, Equatable {
        /// This call's own evaluation.
        case fresh
        /// The request's record, written again so that a `WAIT` after it covers the original.
        case replayed
        /// The request's record, which could not be written again (the node is at maxmemory):
        /// a `WAIT` after it says nothing about the original purchase.
        case replayedUnconfirmed
    }

    /// The purchase script's answer, and where it came from.
    func parsePurchase(_ answer: String) throws(SaleError) -> (result: PurchaseResult, source: AnswerSource) {
        // Read the UTF-8 bytes in place: the answers are ASCII, and splitting the String into
        // an array of substrings cost more than the rest of the parsing on the hot path.
        guard let parsed = Self.parseAnswer(answer) else { throw unexpected(answer, from: .purchase) }
        return parsed
    }

    /// The purchase script's answer `P|order|remaining[|R|RN]`, `S|n`, `L|n`, `N|ms`, `E|ms`
    /// or `U`; nil for anything else.
    package static func parseAnswer(_ answer: String) -> (result: PurchaseResult, source: AnswerSource)? {
        var text = answer
        return text.withUTF8 { parseAnswer($0) }
    }

    static func parseAnswer(_ bytes: UnsafeBufferPointer<UInt8>) -> (result: PurchaseResult, source: AnswerSource)? {
        guard let kind = bytes.first else { return nil }
        if bytes.count == 1 { return kind == UInt8(ascii: "U") ? (.unknownItem, .fresh) : nil }
        guard bytes[1] == UInt8(ascii: "|") else { return nil }
        var fields = AnswerFields(bytes, from: 2)
        switch kind {
        case UInt8(ascii: "P"):
            guard let order = fields.next(), let remaining = fields.next().flatMap(Self.integer) else { return nil }
            let source: AnswerSource
            switch fields.next().map({ String(decoding: $0, as: UTF8.self) }) {
            case nil: source = .fresh
            case "R"?: source = .replayed
            case "RN"?: source = .replayedUnconfirmed
            default: return nil
            }
            guard fields.next() == nil, !order.isEmpty else { return nil }
            return (.purchased(order: String(decoding: order, as: UTF8.self), remaining: Int(remaining)), source)
        case UInt8(ascii: "S"), UInt8(ascii: "L"), UInt8(ascii: "N"), UInt8(ascii: "E"):
            guard let value = fields.next().flatMap(Self.integer), fields.next() == nil else { return nil }
            switch kind {
            case UInt8(ascii: "S"): return (.soldOut(remaining: Int(value)), .fresh)
            case UInt8(ascii: "L"): return (.limitReached(held: Int(value)), .fresh)
            case UInt8(ascii: "N"): return (.notStarted(startsAtMs: value), .fresh)
            default: return (.ended(endsAtMs: value), .fresh)
            }
        default:
            return nil
        }
    }

    /// A decimal integer (optionally negative) of at most 18 digits, or nil.
    private static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var rest = bytes[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative { rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in rest {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// The `|`-separated fields of an answer, as views of its bytes.
    private struct AnswerFields {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int
        var done = false

        init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) {
            self.bytes = bytes
            position = start
        }

        mutating func next() -> UnsafeBufferPointer<UInt8>? {
            guard !done else { return nil }
            var end = position
            while end < bytes.count && bytes[end] != UInt8(ascii: "|") { end += 1 }
            let field = UnsafeBufferPointer(rebasing: bytes[position..<end])
            if end == bytes.count { done = true } else { position = end + 1 }
            return field
        }
    }
}
