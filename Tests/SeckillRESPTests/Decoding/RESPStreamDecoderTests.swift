import SeckillRESP
import Testing

/// The resumable decoder: the same values as ``RESPDecoder`` however the bytes are split,
/// and work that grows with the bytes, not with the number of reads.
@Suite("RESPStreamDecoder")
struct RESPStreamDecoderTests {
    /// Feeds `bytes` as a reader would: the buffer grows to each cut in turn and the decoder is
    /// called again. Returns the value and how many calls returned nil first.
    private func decodeGrowing(
        _ bytes: [UInt8], cuts: [Int], decoder: inout RESPStreamDecoder
    ) throws -> (value: RESPValue, consumed: Int, nils: Int)? {
        var nils = 0
        for cut in cuts + [bytes.count] {
            if let decoded = try decoder.decode(Array(bytes[..<cut])) {
                return (decoded.value, decoded.consumed, nils)
            }
            nils += 1
        }
        return nil
    }

    @Test("every known vector fed one byte at a time gives the same value", arguments: KnownVectors.canonical)
    func knownVectorByteByByte(_ vector: WireVector) throws {
        var decoder = RESPStreamDecoder()
        let decoded = try #require(try decodeGrowing(vector.wire, cuts: Array(0..<vector.wire.count), decoder: &decoder))
        #expect(decoded.value == vector.value)
        #expect(decoded.consumed == vector.wire.count)
        // Every proper prefix (and the empty buffer) asked for more.
        #expect(decoded.nils == vector.wire.count)
        #expect(!decoder.hasPartialValue)
    }

    @Test("known vectors and random values split at random points give the same values", arguments: [1, 7, 0xBEEF] as [UInt64])
    func randomSplits(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var generator = RandomRESPValues(seed: seed)
        var vectors = KnownVectors.canonical.map { ($0.wire, $0.value) }
        for _ in 0..<200 {
            let value = generator.value()
            var bytes: [UInt8] = []
            RESPEncoder.encode(value, into: &bytes)
            vectors.append((bytes, value))
        }
        for (index, (bytes, value)) in vectors.enumerated() {
            let cuts = (0..<rng.below(6)).map { _ in rng.below(bytes.count) }.sorted()
            var decoder = RESPStreamDecoder()
            let decoded = try #require(try decodeGrowing(bytes, cuts: cuts, decoder: &decoder), "seed \(seed), vector \(index)")
            #expect(decoded.value == value, "seed \(seed), vector \(index), cuts \(cuts)")
            #expect(decoded.consumed == bytes.count, "seed \(seed), vector \(index), cuts \(cuts)")
        }
    }

    @Test("a stream read in random chunks, consumed as values complete, gives every value in order")
    func chunkedStreamWithConsumption() throws {
        var generator = RandomRESPValues(seed: 99)
        var rng = SplitMix64(seed: 99)
        let values = (0..<300).map { _ in generator.value() } + KnownVectors.canonical.map(\.value)
        var stream: [UInt8] = []
        for value in values { RESPEncoder.encode(value, into: &stream) }
        var decoder = RESPStreamDecoder()
        var received: [UInt8] = []
        var decoded: [RESPValue] = []
        var sent = 0
        while sent < stream.count {
            let chunk = min(1 + rng.below(40), stream.count - sent)
            received += stream[sent..<(sent + chunk)]
            sent += chunk
            var start = 0
            while let (value, consumed) = try decoder.decode(received, from: start) {
                decoded.append(value)
                start += consumed
            }
            received.removeFirst(start)
        }
        #expect(received.isEmpty)
        #expect(decoded == values)
    }

    @Test("a 4 MiB bulk string in 1,000 chunks decodes, announces its size early and is read once")
    func largeBulkStringInChunks() throws {
        let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var bytes: [UInt8] = []
        RESPEncoder.encode(.bulkString(payload), into: &bytes)
        var decoder = RESPStreamDecoder()
        let step = bytes.count / 1_000
        let cuts = Array(stride(from: step, to: bytes.count, by: step))
        #expect(try decoder.decode(Array(bytes[..<cuts[0]])) == nil)
        // Known from the header: a reader can size its buffer once.
        #expect(decoder.bytesNeeded == bytes.count)
        let decoded = try #require(try decodeGrowing(bytes, cuts: Array(cuts.dropFirst()), decoder: &decoder))
        #expect(decoded.value == .bulkString(payload))
        #expect(decoded.consumed == bytes.count)
        #expect(decoder.bytesExamined <= bytes.count + 64)
        #expect(decoder.bytesNeeded == nil)
    }

    @Test("a 1M-element array in 1,000 chunks decodes, examining each byte a bounded number of times")
    func largeArrayIsLinear() throws {
        let count = 1_000_000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * 9)
        var expected: [RESPValue] = []
        expected.reserveCapacity(count)
        bytes += wire("*\(count)\r\n")
        for index in 0..<count {
            // Integers and short bulk strings, so that chunk edges cut lines, headers and payloads.
            if index % 2 == 0 {
                bytes += wire(":\(index)\r\n")
                expected.append(.integer(Int64(index)))
            } else {
                bytes += wire("$2\r\nab\r\n")
                expected.append(.bulkString(wire("ab")))
            }
        }
        var decoder = RESPStreamDecoder()
        var received: [UInt8] = []
        received.reserveCapacity(bytes.count)
        let chunk = bytes.count / 1_000 + 1
        var result: (value: RESPValue, consumed: Int)?
        var calls = 0
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            received += bytes[start..<min(start + chunk, bytes.count)]
            calls += 1
            result = try decoder.decode(received)
        }
        let decoded = try #require(result)
        #expect(calls == 1_000)
        #expect(decoded.consumed == bytes.count)
        #expect(decoded.value == .array(expected))
        // Re-parsing from the start on every call would examine about calls / 2 times the
        // bytes (some 500x); resuming examines each byte about once, plus the pieces cut by
        // a chunk edge, which are read again.
        #expect(decoder.bytesExamined <= bytes.count + calls * 16, "examined \(decoder.bytesExamined) of \(bytes.count) bytes")
        #expect(decoder.bytesExamined >= bytes.count)
    }

    @Test("malformed bytes in a later chunk still throw, at the offset from the value's start")
    func malformedLaterChunk() throws {
        var decoder = RESPStreamDecoder()
        let bytes = wire("*3\r\n:1\r\n$5\r\nhello\r\n+bad\nline\r\n")
        #expect(try decoder.decode(Array(bytes[..<6])) == nil)
        #expect(try decoder.decode(Array(bytes[..<14])) == nil)
        #expect(throws: RESPDecodingError(kind: .missingCRLF, offset: 23)) {
            try decoder.decode(bytes)
        }
        // The failed value is dropped: the next call decodes afresh.
        #expect(!decoder.hasPartialValue)
        #expect(try decoder.decode(wire(":5\r\n"))?.value == .integer(5))
    }

    @Test("a bulk payload without its CR LF fails once the byte after it arrives")
    func bulkWithoutCRLFInLaterChunk() throws {
        var decoder = RESPStreamDecoder()
        #expect(try decoder.decode(wire("*1\r\n$3\r\nf")) == nil)
        #expect(try decoder.decode(wire("*1\r\n$3\r\nfoo")) == nil)
        #expect(throws: RESPDecodingError(kind: .missingCRLF, offset: 11)) {
            try decoder.decode(wire("*1\r\n$3\r\nfooX"))
        }
    }

    @Test("large bulk strings inside an aggregate, copied as they arrive, decode in uneven chunks")
    func largeBulkInsideAggregate() throws {
        let first = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        let second = [UInt8](repeating: 0x0D, count: 70_000)
        let value = RESPValue.array([.bulkString(first), .integer(1), .map([.simpleString("k"), .bulkString(second)])])
        var bytes: [UInt8] = []
        RESPEncoder.encode(value, into: &bytes)
        var rng = SplitMix64(seed: 5)
        let cuts = Set((0..<37).map { _ in rng.below(bytes.count) }).sorted()
        var decoder = RESPStreamDecoder()
        let decoded = try #require(try decodeGrowing(bytes, cuts: cuts, decoder: &decoder))
        #expect(decoded.value == value)
        #expect(decoded.consumed == bytes.count)
        #expect(decoder.bytesExamined <= bytes.count + cuts.count * 16)
    }

    @Test("a large bulk string without its CR LF fails when the byte after it arrives")
    func largeBulkWithoutCRLF() throws {
        var decoder = RESPStreamDecoder()
        let header = wire("$70000\r\n")
        let payload = [UInt8](repeating: 0x61, count: 70_000)
        #expect(try decoder.decode(header + payload.prefix(30_000)) == nil)
        #expect(try decoder.decode(header + payload) == nil)
        #expect(throws: RESPDecodingError(kind: .missingCRLF, offset: header.count + 70_000)) {
            try decoder.decode(header + payload + wire("XY"))
        }
    }

    /// Reads `stream` in chunks of the given sizes as a connection does: decode every complete
    /// value, and after a `nil` drop the bytes the decoder releases. Returns the values and
    /// the largest the buffer grew.
    private func readReleasing(_ stream: [UInt8], chunk: (inout SplitMix64) -> Int, seed: UInt64) throws -> (
        values: [RESPValue], maxBuffered: Int
    ) {
        var rng = SplitMix64(seed: seed)
        var decoder = RESPStreamDecoder()
        var buffer: [UInt8] = []
        var values: [RESPValue] = []
        var maxBuffered = 0
        var sent = 0
        while sent < stream.count {
            let size = min(chunk(&rng), stream.count - sent)
            buffer += stream[sent..<(sent + size)]
            sent += size
            maxBuffered = max(maxBuffered, buffer.count)
            var start = 0
            while let (value, consumed) = try decoder.decode(buffer, from: start) {
                values.append(value)
                start += consumed
            }
            let releasable = decoder.releasableBytes
            decoder.release(releasable)
            buffer.removeFirst(start + releasable)
        }
        #expect(buffer.isEmpty)
        #expect(!decoder.hasPartialValue)
        return (values, maxBuffered)
    }

    @Test("releasing what the decoder is done with keeps a large array's buffer to about one chunk")
    func releasingLargeArray() throws {
        var value: [RESPValue] = []
        for index in 0..<100_000 {
            value.append(index % 2 == 0 ? .integer(Int64(index)) : .bulkString(wire("ab")))
        }
        var stream: [UInt8] = []
        RESPEncoder.encode(.array(value), into: &stream)
        let read = try readReleasing(stream, chunk: { _ in 1_000 }, seed: 1)
        #expect(read.values == [.array(value)])
        // One chunk plus the cut piece (an element or header) carried over from the last one.
        #expect(read.maxBuffered <= 1_000 + 16)
    }

    @Test("releasing a large bulk string's copied bytes keeps the buffer to about one chunk")
    func releasingLargeBulk() throws {
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var stream: [UInt8] = []
        RESPEncoder.encode(.array([.integer(1), .bulkString(payload), .simpleString("end")]), into: &stream)
        let read = try readReleasing(stream, chunk: { rng in 1 + rng.below(8_192) }, seed: 2)
        #expect(read.values == [.array([.integer(1), .bulkString(payload), .simpleString("end")])])
        #expect(read.maxBuffered <= 8_192 + 16)
    }

    @Test("random values in random chunks decode the same when released bytes are dropped")
    func releasingRandomStream() throws {
        var generator = RandomRESPValues(seed: 77)
        var values = (0..<300).map { _ in generator.value() } + KnownVectors.canonical.map(\.value)
        values.append(.bulkString([UInt8](repeating: 0x0A, count: 100_000)))
        var stream: [UInt8] = []
        for value in values { RESPEncoder.encode(value, into: &stream) }
        let read = try readReleasing(stream, chunk: { rng in 1 + rng.below(300) }, seed: 77)
        #expect(read.values == values)
    }

    @Test("after a release, sizes and error offsets count from the first byte still held")
    func releaseShiftsOffsets() throws {
        var decoder = RESPStreamDecoder()
        let head = wire("*2\r\n:1\r\n$5\r\nhe")
        #expect(try decoder.decode(head) == nil)
        #expect(decoder.releasableBytes == 12)
        #expect(decoder.bytesNeeded == 19)
        // Less than all of it may be released too.
        decoder.release(8)
        #expect(decoder.releasedBytes == 8)
        #expect(decoder.bytesNeeded == 11)
        #expect(throws: RESPDecodingError(kind: .missingCRLF, offset: 9)) {
            try decoder.decode(wire("$5\r\nhelloX"))
        }
    }

    @Test("every malformed case fed one byte at a time throws the same error", arguments: RESPMalformedInputTests.cases)
    func malformedByteByByte(_ input: MalformedCase) throws {
        var decoder = RESPStreamDecoder(limits: input.limits)
        var thrown: RESPDecodingError?
        for end in 1...input.input.count {
            do {
                _ = try decoder.decode(Array(input.input[..<end]))
            } catch {
                thrown = error
                break
            }
        }
        #expect(thrown == RESPDecodingError(kind: input.kind, offset: input.offset))
    }

    @Test("a shorter buffer than the last one starts a new value")
    func shorterBufferStartsOver() throws {
        var decoder = RESPStreamDecoder()
        #expect(try decoder.decode(wire("*2\r\n:1\r\n")) == nil)
        #expect(decoder.hasPartialValue)
        #expect(try decoder.decode(wire("+OK\r\n"))?.value == .simpleString("OK"))
    }

    @Test("a long line arriving in pieces is scanned once")
    func longLineScannedOnce() throws {
        let text = String(repeating: "x", count: 100_000)
        let bytes = wire("+\(text)\r\n")
        var decoder = RESPStreamDecoder()
        let cuts = Array(stride(from: 100, to: bytes.count, by: 100))
        let decoded = try #require(try decodeGrowing(bytes, cuts: cuts, decoder: &decoder))
        #expect(decoded.value == .simpleString(text))
        #expect(decoder.bytesExamined <= bytes.count + 2 * cuts.count)
    }
}
