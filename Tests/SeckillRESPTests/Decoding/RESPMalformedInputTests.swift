import SeckillRESP
import Testing

/// Bytes that are not RESP, with the error they must produce.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var input: [UInt8]
    var kind: RESPDecodingError.Kind
    var offset: Int
    var limits = RESPDecoder.Limits()

    init(_ input: String, _ kind: RESPDecodingError.Kind, at offset: Int, limits: RESPDecoder.Limits = .init()) {
        self.input = wire(input)
        self.kind = kind
        self.offset = offset
        self.limits = limits
    }

    init(bytes: [UInt8], _ kind: RESPDecodingError.Kind, at offset: Int, limits: RESPDecoder.Limits = .init()) {
        self.input = bytes
        self.kind = kind
        self.offset = offset
        self.limits = limits
    }

    var testDescription: String { printable(input) }
}

@Suite("RESPDecoder on malformed input")
struct RESPMalformedInputTests {
    static let nested33 = Array(Array(repeating: wire("*1\r\n"), count: 33).joined()) + wire(":1\r\n")

    static let cases: [MalformedCase] = [
        // Lengths
        MalformedCase("$abc\r\n", .invalidLength, at: 1),
        MalformedCase("$abc", .invalidLength, at: 1),
        MalformedCase("*1x\r\n", .invalidLength, at: 2),
        MalformedCase("$\r\n", .invalidLength, at: 1),
        MalformedCase("*\r\n", .invalidLength, at: 1),
        MalformedCase("$-\r\n", .invalidLength, at: 2),
        MalformedCase("$+3\r\nfoo\r\n", .invalidLength, at: 1),
        MalformedCase("$ 3\r\n", .invalidLength, at: 1),
        MalformedCase("$3 \r\n", .invalidLength, at: 2),
        MalformedCase("$9999999999999999999\r\n", .invalidLength, at: 19),
        // Negative sizes other than the -1 null of $ and *
        MalformedCase("$-2\r\n", .negativeLength(-2), at: 1),
        MalformedCase("*-5\r\n", .negativeLength(-5), at: 1),
        MalformedCase("!-1\r\n", .negativeLength(-1), at: 1),
        MalformedCase("=-1\r\n", .negativeLength(-1), at: 1),
        MalformedCase("%-1\r\n", .negativeLength(-1), at: 1),
        MalformedCase("~-1\r\n", .negativeLength(-1), at: 1),
        MalformedCase(">-1\r\n", .negativeLength(-1), at: 1),
        MalformedCase("|-1\r\n", .negativeLength(-1), at: 1),
        MalformedCase("*1\r\n$-9223372036854775808\r\n", .negativeLength(.min), at: 5),
        // Line endings
        MalformedCase("+OK\n", .missingCRLF, at: 3),
        MalformedCase("+O\rK\r\n", .missingCRLF, at: 3),
        MalformedCase("-ERR\n\r\n", .missingCRLF, at: 4),
        MalformedCase("$3\r\nfooXY", .missingCRLF, at: 7),
        MalformedCase("$3\r\nfooX", .missingCRLF, at: 7),
        MalformedCase("$3\r\nfoo\rY", .missingCRLF, at: 8),
        MalformedCase("$3\r\nfoo\n", .missingCRLF, at: 7),
        MalformedCase(":12\rX", .missingCRLF, at: 4),
        MalformedCase(":12\n", .missingCRLF, at: 3),
        MalformedCase("$3\nfoo", .missingCRLF, at: 2),
        MalformedCase("$\n", .missingCRLF, at: 1),
        MalformedCase("_x", .missingCRLF, at: 1),
        MalformedCase("_\rx", .missingCRLF, at: 2),
        MalformedCase("#tx", .missingCRLF, at: 2),
        MalformedCase(",1.5\n", .missingCRLF, at: 4),
        // Limits
        MalformedCase("$11\r\n", .bulkTooLong(11), at: 1, limits: .init(maxBulkLength: 10)),
        MalformedCase("!11\r\n", .bulkTooLong(11), at: 1, limits: .init(maxBulkLength: 10)),
        MalformedCase("=11\r\n", .bulkTooLong(11), at: 1, limits: .init(maxBulkLength: 10)),
        MalformedCase("$536870913\r\n", .bulkTooLong(536_870_913), at: 1),
        MalformedCase("*5\r\n", .aggregateTooLong(5), at: 1, limits: .init(maxAggregateLength: 4)),
        MalformedCase("*1\r\n~5\r\n", .aggregateTooLong(5), at: 5, limits: .init(maxAggregateLength: 4)),
        MalformedCase("%3\r\n", .aggregateTooLong(3), at: 1, limits: .init(maxAggregateLength: 2)),
        MalformedCase("*16777217\r\n", .aggregateTooLong(16_777_217), at: 1),
        MalformedCase(bytes: nested33, .tooDeeplyNested, at: 128),
        MalformedCase("*1\r\n*0\r\n", .tooDeeplyNested, at: 4, limits: .init(maxDepth: 1)),
        MalformedCase("*1\r\n%0\r\n", .tooDeeplyNested, at: 4, limits: .init(maxDepth: 1)),
        MalformedCase("|0\r\n", .tooDeeplyNested, at: 0, limits: .init(maxDepth: 0)),
        MalformedCase("+abcde", .lineTooLong, at: 1, limits: .init(maxLineLength: 4)),
        MalformedCase("-abcde\r\n", .lineTooLong, at: 1, limits: .init(maxLineLength: 4)),
        // Type bytes
        MalformedCase("?x\r\n", .invalidTypeByte(UInt8(ascii: "?")), at: 0),
        MalformedCase("*2\r\n:1\r\n?\r\n", .invalidTypeByte(UInt8(ascii: "?")), at: 8),
        MalformedCase("*2\r\n:1\r\n\r\n", .invalidTypeByte(0x0D), at: 8),
        MalformedCase("|1\r\n+k\r\n+v\r\nX", .invalidTypeByte(UInt8(ascii: "X")), at: 12),
        // Integers
        MalformedCase(":9223372036854775808\r\n", .invalidInteger, at: 19),
        MalformedCase(":-9223372036854775809\r\n", .invalidInteger, at: 20),
        MalformedCase(":+1\r\n", .invalidInteger, at: 1),
        MalformedCase(": 1\r\n", .invalidInteger, at: 1),
        MalformedCase(":1 \r\n", .invalidInteger, at: 2),
        MalformedCase(":\r\n", .invalidInteger, at: 1),
        MalformedCase(":-\r\n", .invalidInteger, at: 2),
        MalformedCase(":1.5\r\n", .invalidInteger, at: 2),
        // RESP3 scalars
        MalformedCase("#x\r\n", .invalidBoolean, at: 1),
        MalformedCase("#T\r\n", .invalidBoolean, at: 1),
        MalformedCase(",abc\r\n", .invalidDouble, at: 1),
        MalformedCase(",\r\n", .invalidDouble, at: 1),
        MalformedCase(",1e\r\n", .invalidDouble, at: 1),
        MalformedCase(",1.5x\r\n", .invalidDouble, at: 1),
        MalformedCase(",0x1p3\r\n", .invalidDouble, at: 1),
        MalformedCase(",infinity\r\n", .invalidDouble, at: 1),
        MalformedCase("(12a\r\n", .invalidBigNumber, at: 1),
        MalformedCase("(\r\n", .invalidBigNumber, at: 1),
        MalformedCase("(-\r\n", .invalidBigNumber, at: 1),
        MalformedCase("=3\r\ntxt\r\n", .invalidVerbatim, at: 4),
        MalformedCase("=5\r\ntxtX1\r\n", .invalidVerbatim, at: 4),
        MalformedCase("=50\r\ntxtX", .invalidVerbatim, at: 5),
    ]

    @Test("throws the right kind at the right offset", arguments: cases)
    func throwsKindAtOffset(_ testCase: MalformedCase) {
        let decoder = RESPDecoder(limits: testCase.limits)
        #expect(throws: RESPDecodingError(kind: testCase.kind, offset: testCase.offset)) {
            try decoder.decode(testCase.input)
        }
    }

    @Test("throws on 100000 nested arrays instead of overflowing the stack")
    func deepNestingDoesNotCrash() {
        let bytes = Array(Array(repeating: wire("*1\r\n"), count: 100_000).joined())
        #expect(throws: RESPDecodingError(kind: .tooDeeplyNested, offset: 128)) {
            try RESPDecoder().decode(bytes)
        }
    }

    @Test("throws on a huge bulk length without waiting for the payload")
    func oversizedBulkFailsBeforePayload() {
        #expect(throws: RESPDecodingError(kind: .bulkTooLong(9_223_372_036_854_775_807), offset: 1)) {
            try RESPDecoder().decode(wire("$9223372036854775807\r\n"))
        }
    }

    @Test("handles a stream of attributes without recursing")
    func manyAttributesDoNotRecurse() throws {
        let bytes = Array(Array(repeating: wire("|0\r\n"), count: 100_000).joined()) + wire(":1\r\n")
        let decoded = try #require(try RESPDecoder().decode(bytes))
        #expect(decoded.value == .integer(1))
        #expect(decoded.consumed == bytes.count)
    }

    @Test("describes the problem and the byte")
    func errorDescription() {
        let error = RESPDecodingError(kind: .negativeLength(-2), offset: 17)
        #expect(error.description == "invalid RESP at byte 17: negative length -2 (only -1 means null, and only for '$' and '*')")
        #expect(
            RESPDecodingError(kind: .invalidTypeByte(0x3F), offset: 0).description
                == "invalid RESP at byte 0: unknown type byte 0x3F ('?')")
    }
}
