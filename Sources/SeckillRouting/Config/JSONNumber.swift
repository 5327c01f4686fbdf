/// A JSON number kept exactly as written in the document.
///
/// Keeping the literal means an integer too big for `Int` is reported instead of being
/// rounded through `Double`, and `7000` and `7000.0` stay distinguishable.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number's text, e.g. `-12`, `3.5e-2`.
    public let literal: String

    /// Whether the literal has neither a fraction nor an exponent.
    public let isInteger: Bool

    /// Creates a number from a literal already checked against the JSON grammar.
    init(validatedLiteral literal: String, isInteger: Bool) {
        self.literal = literal
        self.isInteger = isInteger
    }

    /// Creates an integer number.
    ///
    /// - Parameter value: The integer.
    public init(_ value: Int) {
        self.literal = String(value)
        self.isInteger = true
    }

    /// The value as an `Int`: `nil` when the literal is not an integer or does not fit
    /// in 64 bits.
    public var intValue: Int? {
        isInteger ? Int(literal) : nil
    }

    /// The value as a `Double` (may round, may be infinite for huge exponents).
    public var doubleValue: Double {
        Double(literal) ?? .nan
    }

    /// The literal text.
    public var description: String {
        literal
    }
}
