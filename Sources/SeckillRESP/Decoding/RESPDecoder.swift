/// An incremental RESP2/RESP3 decoder for bytes as they arrive from a socket.
///
/// The decoder is stateless: each call decodes one value from the start of the buffer it is
/// given, and either returns the value with the number of bytes it used, returns `nil`
/// because the buffer holds only a prefix of a value, or throws because the bytes are not
/// RESP. Nothing is consumed unless a value is returned, so the caller keeps its buffer,
/// appends what the next read brings and calls again.
///
/// Malformed input is reported as soon as it can be proven malformed, even if the value is
/// incomplete; `nil` is never returned for bytes that are already invalid up to a CR LF.
///
/// RESP3 attributes (`|N`) are decoded and discarded: the value they annotate is returned,
/// and the bytes consumed include the attribute.
///
/// Being stateless, a call re-reads a partial value from its first byte. That costs nothing
/// for a value that arrives whole, but a huge aggregate arriving in many reads would be parsed
/// again on every read; a connection uses ``RESPStreamDecoder``, which continues where the
/// previous call stopped.
///
/// ## Error offsets
/// ``RESPDecodingError/offset`` points at:
/// - the type byte, for ``RESPDecodingError/Kind/invalidTypeByte(_:)``, and for
///   ``RESPDecodingError/Kind/tooDeeplyNested`` (the first aggregate beyond the limit);
/// - the first byte that breaks the grammar (a non-digit, the digit that overflows, or the
///   CR ending an empty number), for ``RESPDecodingError/Kind/invalidLength`` and
///   ``RESPDecodingError/Kind/invalidInteger``;
/// - the first byte of the length, for ``RESPDecodingError/Kind/negativeLength(_:)``,
///   ``RESPDecodingError/Kind/bulkTooLong(_:)`` and ``RESPDecodingError/Kind/aggregateTooLong(_:)``;
/// - the byte where CR or LF was expected (a lone LF, the byte after a CR, the byte after a
///   bulk payload), for ``RESPDecodingError/Kind/missingCRLF``;
/// - the first byte after the type byte (the value's text), for booleans, doubles, big
///   numbers and ``RESPDecodingError/Kind/lineTooLong``, and the first payload byte for
///   ``RESPDecodingError/Kind/invalidVerbatim``.
public struct RESPDecoder: Sendable {
    /// Bounds that keep a hostile or broken peer from exhausting memory or stack.
    public struct Limits: Sendable, Hashable {
        /// The deepest nesting of aggregates accepted; a top-level array is at depth 1. Default 32.
        ///
        /// Each open level holds a partly built aggregate, so keep this modest (hundreds, not millions).
        public var maxDepth: Int
        /// The longest bulk string, bulk error or verbatim string accepted, in bytes. Default 512 MiB, Redis's own limit.
        public var maxBulkLength: Int
        /// The most elements (map and attribute: pairs) one aggregate may announce. Default 2^24.
        public var maxAggregateLength: Int
        /// The longest simple string, error, double or big number line accepted, in bytes. Default 1 MiB.
        ///
        /// Without it a peer that never sends CR LF would make the caller buffer forever.
        public var maxLineLength: Int

        /// Creates limits; every parameter defaults to the documented default.
        ///
        /// - Parameters:
        ///   - maxDepth: The deepest nesting of aggregates accepted.
        ///   - maxBulkLength: The longest bulk payload accepted, in bytes.
        ///   - maxAggregateLength: The most elements one aggregate may announce.
        ///   - maxLineLength: The longest line-terminated value accepted, in bytes.
        public init(
            maxDepth: Int = 32,
            maxBulkLength: Int = 512 * 1024 * 1024,
            maxAggregateLength: Int = 1 << 24,
            maxLineLength: Int = 1 << 20
        ) {
            self.maxDepth = maxDepth
            self.maxBulkLength = maxBulkLength
            self.maxAggregateLength = maxAggregateLength
            self.maxLineLength = maxLineLength
        }
    }

    /// The bounds this decoder enforces.
    public var limits: Limits

    /// Creates a decoder.
    ///
    /// - Parameter limits: The bounds to enforce; the defaults suit a Redis client.
    public init(limits: Limits = .init()) {
        self.limits = limits
    }

    /// Decodes one value from the start of `buffer`.
    ///
    /// - Parameter buffer: Bytes received so far; the first byte must start a value.
    /// - Returns: The value and the number of bytes it used, or `nil` if `buffer` holds only
    ///   a prefix of a value (including when it is empty).
    /// - Throws: ``RESPDecodingError`` if the bytes are not valid RESP or break a limit;
    ///   its offset is relative to the start of `buffer`.
    public func decode(_ buffer: UnsafeRawBufferPointer) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        // A fresh stream decoder: the same parser, with no partial value to continue.
        var stream = RESPStreamDecoder(limits: limits)
        return try stream.decode(buffer)
    }

    /// Decodes one value from `bytes`, starting at index `start`.
    ///
    /// - Parameters:
    ///   - bytes: Bytes received so far.
    ///   - start: The index where the value starts, between 0 and `bytes.count`; earlier bytes are ignored.
    /// - Returns: The value and the number of bytes it used counted from `start` (so the next
    ///   value starts at `start + consumed`), or `nil` if the bytes from `start` hold only a prefix of a value.
    /// - Throws: ``RESPDecodingError`` if the bytes are not valid RESP or break a limit; its
    ///   offset is relative to `start`, not to the start of `bytes`.
    public func decode(_ bytes: [UInt8], from start: Int = 0) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        var stream = RESPStreamDecoder(limits: limits)
        return try stream.decode(bytes, from: start)
    }
}
