import SeckillRESP
import Testing

@Suite("RESPDecoder")
struct RESPDecoderTests {
    let decoder = RESPDecoder()

    @Test("decodes every known vector, consuming exactly its bytes", arguments: KnownVectors.canonical)
    func decodesKnownVector(_ vector: WireVector) throws {
        let decoded = try #require(try decoder.decode(vector.wire))
        #expect(decoded.value == vector.value)
        #expect(decoded.consumed == vector.wire.count)
    }

    @Test(
        "decodes non-canonical forms",
        arguments: [
            WireVector(":-0\r\n", .integer(0)),
            WireVector(":007\r\n", .integer(7)),
            WireVector(",1.5e3\r\n", .double(1500)),
            WireVector(",+2\r\n", .double(2)),
            WireVector(",.5\r\n", .double(0.5)),
            WireVector(",10\r\n", .double(10)),
            WireVector(",2E-2\r\n", .double(0.02)),
            WireVector(",INF\r\n", .double(.infinity)),
            WireVector(",-nan\r\n", .double(.nan)),
            WireVector("(+7\r\n", .bigNumber("+7")),
        ]
    )
    func decodesNonCanonicalForm(_ vector: WireVector) throws {
        let decoded = try #require(try decoder.decode(vector.wire))
        #expect(decoded.value == vector.value)
        #expect(decoded.consumed == vector.wire.count)
    }

    @Test("skips an attribute and returns the value it annotates")
    func skipsTopLevelAttribute() throws {
        let bytes = wire("|1\r\n+key\r\n+val\r\n:5\r\n")
        let decoded = try #require(try decoder.decode(bytes))
        #expect(decoded.value == .integer(5))
        #expect(decoded.consumed == bytes.count)
    }

    @Test("skips attributes inside aggregates and repeated attributes")
    func skipsNestedAttributes() throws {
        let bytes = wire("*2\r\n|1\r\n+a\r\n*1\r\n:0\r\n:1\r\n|0\r\n|0\r\n:2\r\n")
        let decoded = try #require(try decoder.decode(bytes))
        #expect(decoded.value == .array([.integer(1), .integer(2)]))
        #expect(decoded.consumed == bytes.count)
    }

    @Test("returns nil for an attribute whose value has not arrived")
    func attributeWithoutValueIsIncomplete() throws {
        #expect(try decoder.decode(wire("|1\r\n+key\r\n+val\r\n")) == nil)
    }

    @Test("consumes only the first of several values")
    func consumesOnlyFirstValue() throws {
        let decoded = try #require(try decoder.decode(wire("+OK\r\n+PONG\r\n")))
        #expect(decoded.value == .simpleString("OK"))
        #expect(decoded.consumed == 5)
    }

    @Test("returns nil for an empty buffer")
    func emptyBufferIsIncomplete() throws {
        #expect(try decoder.decode([]) == nil)
        #expect(try decoder.decode(UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
    }

    @Test(
        "returns nil for valid prefixes",
        arguments: [
            "$", "$-2", "$3", "$3\r", "$3\r\nfo", "$3\r\nfoo", "$3\r\nfoo\r", "*2\r\n:1\r\n", "+OK", "+OK\r",
            ":-", ":12", "#", "#t", "#t\r", "_", "_\r", ",1.5", "=10\r\ntx", "%1\r\n+a\r\n", "*16777216\r\n",
        ]
    )
    func validPrefixIsIncomplete(_ prefix: String) throws {
        #expect(try decoder.decode(wire(prefix)) == nil)
    }

    @Test("decodes from an offset, reporting consumed bytes from that offset")
    func decodesFromOffset() throws {
        let bytes = wire("garbage:7\r\n")
        let decoded = try #require(try decoder.decode(bytes, from: 7))
        #expect(decoded.value == .integer(7))
        #expect(decoded.consumed == 4)
        #expect(try decoder.decode(bytes, from: bytes.count) == nil)
    }

    @Test("reports error offsets relative to the start offset")
    func errorOffsetIsRelativeToStart() {
        #expect(throws: RESPDecodingError(kind: .invalidLength, offset: 2)) {
            try decoder.decode(wire("+OK\r\n*1x\r\n"), from: 5)
        }
    }

    @Test("decodes from a raw buffer pointer")
    func decodesFromRawBuffer() throws {
        let bytes = wire("*1\r\n$2\r\nhi\r\n")
        let decoded = try bytes.withUnsafeBytes { try decoder.decode($0) }
        #expect(decoded?.value == .array([.bulkString(wire("hi"))]))
        #expect(decoded?.consumed == bytes.count)
    }

    @Test("accepts nesting exactly at the depth limit")
    func acceptsMaximumDepth() throws {
        let bytes = Array(repeating: wire("*1\r\n"), count: 32).joined() + wire(":1\r\n")
        let decoded = try #require(try decoder.decode(Array(bytes)))
        var value = decoded.value
        var depth = 0
        while case .array(let elements) = value {
            depth += 1
            value = elements[0]
        }
        #expect(depth == 32)
        #expect(value == .integer(1))
    }

    @Test("does not count null arrays as nesting")
    func nullArrayAtDepthLimitIsAccepted() throws {
        let bytes = Array(Array(repeating: wire("*1\r\n"), count: 32).joined()) + wire("*-1\r\n")
        #expect(try decoder.decode(bytes)?.consumed == bytes.count)
    }

    @Test("accepts a bulk string exactly at the length limit")
    func acceptsMaximumBulkLength() throws {
        let small = RESPDecoder(limits: .init(maxBulkLength: 3))
        #expect(try small.decode(wire("$3\r\nfoo\r\n"))?.value == .bulkString(wire("foo")))
    }

    @Test("accepts a line exactly at the line limit, and waits for more below it")
    func acceptsMaximumLineLength() throws {
        let small = RESPDecoder(limits: .init(maxLineLength: 4))
        #expect(try small.decode(wire("+abcd\r\n"))?.value == .simpleString("abcd"))
        #expect(try small.decode(wire("+abcd")) == nil)
        #expect(try small.decode(wire("+abcd\r")) == nil)
    }
}
