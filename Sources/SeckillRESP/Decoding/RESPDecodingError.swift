/// Why bytes are not valid RESP, and where.
///
/// Decoding errors mean the byte stream can no longer be trusted: the connection that
/// produced it should be closed rather than resynchronised.
public struct RESPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong with the bytes.
    public enum Kind: Sendable, Hashable {
        /// The byte where a value should start is not a RESP type byte.
        case invalidTypeByte(UInt8)
        /// A length or count is not an optional `-` followed by decimal digits, or overflows `Int64`.
        case invalidLength
        /// A length or count is negative and is not the `-1` null of `$` or `*`.
        case negativeLength(Int64)
        /// A line does not end with CR LF, holds a lone CR or LF, or a bulk payload is not followed by CR LF.
        case missingCRLF
        /// A bulk length exceeds ``RESPDecoder/Limits/maxBulkLength``.
        case bulkTooLong(Int64)
        /// An aggregate count exceeds ``RESPDecoder/Limits/maxAggregateLength``.
        case aggregateTooLong(Int64)
        /// Aggregates are nested deeper than ``RESPDecoder/Limits/maxDepth``.
        case tooDeeplyNested
        /// An integer is not an optional `-` followed by decimal digits, or overflows `Int64`.
        case invalidInteger
        /// A double is not a decimal number, `inf`, `-inf` or `nan`.
        case invalidDouble
        /// A boolean is not `t` or `f`.
        case invalidBoolean
        /// A verbatim string is shorter than four bytes or has no `:` after its three-byte format.
        case invalidVerbatim
        /// A big number is not an optional sign followed by decimal digits.
        case invalidBigNumber
        /// A simple string, error, double or big number line is longer than ``RESPDecoder/Limits/maxLineLength``.
        case lineTooLong
    }

    /// What was wrong with the bytes.
    public var kind: Kind

    /// The index of the byte where the problem was found, relative to the start of the decoded buffer.
    ///
    /// See ``RESPDecoder`` for which byte each kind points at.
    public var offset: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - kind: What was wrong.
    ///   - offset: The index of the offending byte, relative to the start of the decoded buffer.
    public init(kind: Kind, offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// A message that names the problem and the byte, such as
    /// `invalid RESP at byte 17: negative length -2 (only -1 means null)`.
    public var description: String {
        "invalid RESP at byte \(offset): \(reason)"
    }

    private var reason: String {
        switch kind {
        case .invalidTypeByte(let byte):
            let printable = (0x21..<0x7F).contains(byte) ? " ('\(Character(Unicode.Scalar(byte)))')" : ""
            return "unknown type byte 0x\(String(byte, radix: 16, uppercase: true))\(printable)"
        case .invalidLength:
            return "length is not a decimal number"
        case .negativeLength(let length):
            return "negative length \(length) (only -1 means null, and only for '$' and '*')"
        case .missingCRLF:
            return "expected CR LF"
        case .bulkTooLong(let length):
            return "bulk length \(length) exceeds the decoder's maxBulkLength"
        case .aggregateTooLong(let count):
            return "aggregate of \(count) elements exceeds the decoder's maxAggregateLength"
        case .tooDeeplyNested:
            return "aggregates nested deeper than the decoder's maxDepth"
        case .invalidInteger:
            return "integer is not an optional '-' followed by digits, or overflows Int64"
        case .invalidDouble:
            return "double is not a decimal number, inf, -inf or nan"
        case .invalidBoolean:
            return "boolean is neither 't' nor 'f'"
        case .invalidVerbatim:
            return "verbatim string does not start with a 3-byte format and ':'"
        case .invalidBigNumber:
            return "big number is not an optional sign followed by digits"
        case .lineTooLong:
            return "line without CR LF longer than the decoder's maxLineLength"
        }
    }
}
